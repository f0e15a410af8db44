/**
 * The lease's HTTP surface, shared by the agent and the simulator's agent routes
 * (docs/replica-leases.md):
 *
 * | route | answers |
 * | --- | --- |
 * | `GET /servetune/v1/lease` | `{holder, expires_at}` (nulls when free) |
 * | `DELETE /servetune/v1/lease?holder=ID` | 200 `{released, released_holder, lease}`; idempotent; 409 `lease_held` when another rollout holds it |
 * | `DELETE /servetune/v1/lease?force=1` | 200: releases whoever holds it (the operator's way out after a terminate) |
 *
 * and, before a `PUT /servetune/v1/config` is applied, `claimForPush`: 409 `lease_held` when another
 * holder's lease is live.
 */
import express, { type Request, type Response } from 'express';
import { describeLease, type Lease, type ReplicaLease } from '../core/replicaLease';
import type { ConfigPush, LeaseHeldBody, LeaseRelease } from '../models';

function sendHeld(res: Response, held: Lease, what: string): void {
  const lease = describeLease(held) as LeaseHeldBody['lease'];
  const body: LeaseHeldBody = {
    error: {
      code: 'lease_held',
      message: `${what} refused: the replica is held by rollout ${lease.holder} until ${lease.expires_at}`,
      details: [
        { field: 'holder', message: lease.holder },
        { field: 'expires_at', message: lease.expires_at },
      ],
    },
    lease,
  };
  res.status(409).json(body);
}

/** Claims the replica for the push's holder; false (and a 409 sent) when another holder has it. */
export function claimForPush(lease: ReplicaLease, push: ConfigPush, res: Response): boolean {
  const claimed = lease.claim(push.holder, push.lease_seconds);
  if (claimed.ok) return true;
  sendHeld(res, claimed.held, `config push of revision ${push.revision}${push.holder ? ` by ${push.holder}` : ' without a holder'}`);
  return false;
}

function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** GET and DELETE `/servetune/v1/lease` of the replica `leaseOf(req)` names (undefined: not a replica, 404). */
export function leaseRouter(leaseOf: (req: Request) => ReplicaLease | undefined): express.Router {
  const router = express.Router({ mergeParams: true });
  router.get('/servetune/v1/lease', (req, res, next) => {
    const lease = leaseOf(req);
    if (!lease) return next();
    res.json(describeLease(lease.held()));
  });
  router.delete('/servetune/v1/lease', (req, res, next) => {
    const lease = leaseOf(req);
    if (!lease) return next();
    const force = ['1', 'true'].includes(queryString(req, 'force') ?? '');
    const holder = queryString(req, 'holder');
    if (!force && holder === undefined) {
      const body = { error: { code: 'invalid_request', message: 'holder: give ?holder=<rollout id>, or ?force=1 to release whoever holds the replica', details: [{ field: 'holder', message: 'required unless force=1' }] } };
      return void res.status(400).json(body);
    }
    const outcome = lease.release(holder, force);
    if (!outcome.ok) return sendHeld(res, outcome.held, `release by ${holder}`);
    const body: LeaseRelease = { released: outcome.released !== null, released_holder: outcome.released?.holder ?? null, lease: describeLease(lease.held()) };
    res.json(body);
  });
  return router;
}
