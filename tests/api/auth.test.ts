/** Access control against a real Temporal dev server: 401, 403, scopes, and the approver is the token's subject. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { actorName, isLoopbackAddress, loadTokens, TokenStore } from '../../api/auth';
import { ErrorBodySchema } from '../../models';
import { isTerminal, startStack, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(120_000);

const TOKENS = {
  alice: 'alice-token-0123456789', // read + start + approve
  bob: 'bob-token-0123456789ab', // read only
  carol: 'carol-token-0123456789', // read + start
};

describe('token configuration', () => {
  it('reads the compact env form and a JSON file', () => {
    const tokens = loadTokens({ SERVETUNE_API_TOKENS: `${TOKENS.alice}:alice:read+start+approve; ${TOKENS.bob}:bob:read` });
    expect(tokens).toEqual([
      { token: TOKENS.alice, subject: 'alice', scopes: ['read', 'start', 'approve'] },
      { token: TOKENS.bob, subject: 'bob', scopes: ['read'] },
    ]);
    expect(loadTokens({})).toEqual([]);
  });

  it('rejects short tokens and unknown scopes with the entry named', () => {
    expect(() => loadTokens({ SERVETUNE_API_TOKENS: 'short:alice:read' })).toThrow(/#1 is invalid: token/);
    expect(() => loadTokens({ SERVETUNE_API_TOKENS: `${TOKENS.alice}:alice:admin` })).toThrow(/scopes/);
  });

  it('knows loopback addresses by the address itself, never by a name that looks like one', () => {
    expect(['127.0.0.1', '127.8.9.10', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['0.0.0.0', '10.1.2.3', '::', '::ffff:10.0.0.1', 'fe80::1', '1::1', '127.evil.example', '127.0.0.1.nip.io', 'localhost', '', undefined].some(isLoopbackAddress)).toBe(false);
  });

  it('records the token subject over any name in the body', () => {
    expect(actorName({ authenticated: true, subject: 'alice' }, 'mallory')).toBe('alice');
    expect(actorName({ authenticated: false, subject: null }, 'bob')).toBe('bob');
  });
});

describe('with tokens configured', () => {
  let env: TestWorkflowEnvironment;
  let stack: Stack;
  let api: ReturnType<typeof supertest>;
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    env = await startDevServer();
    stack = await startStack(env, 2);
    const tokens = new TokenStore(
      loadTokens({ SERVETUNE_API_TOKENS: `${TOKENS.alice}:alice:read+start+approve;${TOKENS.bob}:bob:read;${TOKENS.carol}:carol:read+start` }),
    );
    api = supertest(createApp(env.client, { taskQueue: stack.taskQueue, tokens }));
  });

  afterAll(async () => {
    await stack?.stop();
    await env?.teardown();
  });

  it('answers 401 without a token or with an unknown one, on reads and writes alike', async () => {
    for (const res of [
      await api.get('/api/v1/workflows'),
      await api.post('/api/v1/workflows').send({ instance_id: stack.deployments[0], instance_type: 'vllm' }),
      await api.get('/api/v1/workflows/x').set(as('not-a-real-token-at-all')),
      await api.post('/api/v1/workflows/x/approve').set({ Authorization: 'Basic abc' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(ErrorBodySchema.parse(res.body).error.code).toBe('unauthenticated');
    }
  });

  it('answers 403 when the token lacks the scope, and starts nothing', async () => {
    const res = await api.post('/api/v1/workflows').set(as(TOKENS.bob)).send({ instance_id: stack.deployments[0], instance_type: 'vllm' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    const list = await api.get('/api/v1/workflows').set(as(TOKENS.bob));
    expect(list.status).toBe(200);
    expect(list.body.workflows).toEqual([]);
  });

  it('keeps health endpoints open', async () => {
    expect((await api.get('/healthz')).status).toBe(200);
  });

  it('records who started and who approved from the tokens, with the channel, in the audit trail', async () => {
    const started = await api
      .post('/api/v1/workflows')
      .set(as(TOKENS.carol))
      .send({ instance_id: stack.deployments[0], instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 });
    expect(started.status).toBe(201);
    const id = started.body.workflow_id;
    let state;
    do {
      await new Promise((r) => setTimeout(r, 100));
      state = (await api.get(`/api/v1/workflows/${id}`).set(as(TOKENS.bob))).body;
    } while (state.status !== 'awaiting_approval');

    const denied = await api.post(`/api/v1/workflows/${id}/approve`).set(as(TOKENS.carol)).send({ approved_by: 'carol' });
    expect(denied.status).toBe(403);

    const approved = await api.post(`/api/v1/workflows/${id}/approve`).set(as(TOKENS.alice)).send({ approved_by: 'mallory', comment: 'ship it' });
    expect(approved.status).toBe(200);
    expect(approved.body.approved_by).toBe('alice');
    expect(approved.body.audit.map((a: { action: string; actor: string; channel: string }) => [a.action, a.actor, a.channel])).toEqual([
      ['start', 'carol', 'rest'],
      ['approve', 'alice', 'rest'],
    ]);
    do {
      await new Promise((r) => setTimeout(r, 100));
      state = (await api.get(`/api/v1/workflows/${id}`).set(as(TOKENS.bob))).body;
    } while (!isTerminal(state));
    expect(state.status).toBe('completed');
  });

  it('records promote and abort over REST, and a signal straight through Temporal as channel "temporal"', async () => {
    const started = await api
      .post('/api/v1/workflows')
      .set(as(TOKENS.alice))
      .send({ instance_id: stack.deployments[1], instance_type: 'vllm', auto_rollout: false, stages: [10, 50, 100], monitoring_duration_seconds: 1 });
    const id = started.body.workflow_id;
    const waitStep = async (step: string) => {
      for (;;) {
        const s = (await api.get(`/api/v1/workflows/${id}`).set(as(TOKENS.alice))).body;
        if (s.current_step === step || isTerminal(s)) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    expect((await api.post(`/api/v1/workflows/${id}/promote`).set(as(TOKENS.alice)).send({})).status).toBe(409);
    await waitStep('await_promotion');
    const promoted = await api.post(`/api/v1/workflows/${id}/promote`).set(as(TOKENS.alice)).send({});
    expect(promoted.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    await waitStep('await_promotion');
    await env.client.workflow.getHandle(id).signal('promote', { promoted_by: 'ops-cli' });
    await new Promise((r) => setTimeout(r, 200));
    const aborted = await api.post(`/api/v1/workflows/${id}/abort`).set(as(TOKENS.alice)).send({ reason: 'enough' });
    expect(aborted.status).toBe(200);
    const done = await waitStep('never');
    expect(done.status).toBe('rolled_back');
    expect(done.audit.map((a: { action: string; actor: string; channel: string }) => [a.action, a.actor, a.channel])).toEqual([
      ['start', 'alice', 'rest'],
      ['promote', 'alice', 'rest'],
      ['promote', 'ops-cli', 'temporal'],
      ['abort', 'alice', 'rest'],
    ]);
    expect((await api.post(`/api/v1/workflows/${id}/abort`).set(as(TOKENS.alice)).send({})).status).toBe(409);
  });
});
