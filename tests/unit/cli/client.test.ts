/**
 * `servetune start|status|list|approve|reject|promote|abort|watch` against an in-process gateway on a real Temporal
 * dev server, worker and simulator: the commands run through `run` (as the bin does), with the
 * gateway's URL and token in the environment they are given.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import axios from 'axios';
import { createApp } from '../../../api/app';
import { loadTokens, TokenStore } from '../../../api/auth';
import { gatewayUrl, type GatewayDeps } from '../../../cli/gateway';
import { EXIT } from '../../../cli/io';
import { run } from '../../../cli/main';
import { version } from '../../../package.json';
import { WorkflowListSchema, WorkflowStateSchema, type WorkflowState } from '../../../models';
import { isTerminal, startStack, waitForState, type Stack } from '../../helpers/stack';
import { startDevServer } from '../../helpers/temporal';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '../../..');
const TOKEN = 'cli-test-token-0123456789';

let env: TestWorkflowEnvironment;
let stack: Stack;
let gateway: Server;
let secured: Server;
let url: string;
let securedUrl: string;

async function listen(app: ReturnType<typeof createApp>): Promise<[Server, string]> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

interface Result {
  code: number;
  out: string;
  err: string;
}

/** Runs `servetune ...args` in-process against the gateway (or `opts.env`'s). */
async function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; tty?: boolean } = {}): Promise<Result> {
  let out = '';
  let err = '';
  const deps: GatewayDeps = {
    env: opts.env ?? { SERVETUNE_URL: url },
    timeoutMs: 30_000,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
    terminal: () => ({ isTTY: opts.tty === true, columns: 100 }),
  };
  const code = await run(['node', 'servetune', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) }, deps);
  return { code, out, err };
}

const jsonState = (r: Result): WorkflowState => {
  expect(r).toMatchObject({ code: 0, err: '' });
  return WorkflowStateSchema.parse(JSON.parse(r.out));
};

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 5);
  [gateway, url] = await listen(createApp(env.client, { taskQueue: stack.taskQueue }));
  const tokens = new TokenStore(loadTokens({ SERVETUNE_API_TOKENS: `${TOKEN}:carol:read+start+approve` }));
  [secured, securedUrl] = await listen(createApp(env.client, { taskQueue: stack.taskQueue, tokens }));
});

afterAll(async () => {
  gateway?.closeAllConnections();
  gateway?.close();
  secured?.closeAllConnections();
  secured?.close();
  await stack?.stop();
  await env?.teardown();
});

describe('approval lifecycle', () => {
  let id: string;

  it('start --json answers the new rollout with the options applied', async () => {
    const state = jsonState(await cli(['start', '--instance', stack.deployments[0], '--engine', 'vllm', '--approval', '--window', '1', '--threshold', '0.8', '--stages', '20,100', '--no-require-improvement', '--json']));
    expect(state).toMatchObject({ instance_id: stack.deployments[0], instance_type: 'vllm', requires_approval: true, auto_rollout: true, monitoring_duration_seconds: 1, health_threshold: 0.8, stages: [20, 100] });
    expect(state.workflow_id).toMatch(/^rollout-/);
    id = state.workflow_id;
  });

  it('status shows the state (text and --json)', async () => {
    await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
    // --no-require-improvement: the state echoes no field for it until the check; the rollout's input carries it.
    const history = await stack.env.client.workflow.getHandle(id).fetchHistory();
    const input = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    expect(JSON.parse(Buffer.from(input.data!).toString())).toMatchObject({ require_improvement: false });
    const state = jsonState(await cli(['status', id, '--json']));
    expect(state).toMatchObject({ workflow_id: id, status: 'awaiting_approval' });
    const text = await cli(['status', id]);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`${id}  ${stack.deployments[0]} (vllm)`);
    expect(text.out).toMatch(/status\s+awaiting_approval \(await_approval\)/);
    expect(text.out).toMatch(/approval\s+required, waiting/);
    expect(text.out).toMatch(/baseline\s+health \d+\.\d/);
  });

  it('list filters by instance and status', async () => {
    const r = await cli(['list', '--instance', stack.deployments[0], '--status', 'awaiting_approval', '--json']);
    expect(r.code).toBe(0);
    expect(WorkflowListSchema.parse(JSON.parse(r.out)).workflows.map((w) => w.workflow_id)).toEqual([id]);
    const none = await cli(['list', '--instance', stack.deployments[0], '--status', 'completed']);
    expect(none).toEqual({ code: 0, out: 'no rollouts\n', err: '' });
    const table = await cli(['list', '--instance', stack.deployments[0]]);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+DEPLOYMENT\s+ENGINE\s+STATUS\s+STEP\s+STAGE\s+HEALTH\s+CREATED$/);
    expect(table.out).toContain(id);
  });

  it('approve, while watch --json streams one state per change until completion', async () => {
    const watching = cli(['watch', id, '--json', '--interval', '0.2']);
    await new Promise((r) => setTimeout(r, 500));
    const approved = await cli(['approve', id, '--by', 'alice', '--comment', 'ship it']);
    expect(approved).toEqual({ code: 0, out: expect.stringMatching(new RegExp(`^Approved ${id} as alice: now rolling_out \\(`)), err: '' });

    const watched = await watching;
    expect(watched.code).toBe(EXIT.ok);
    expect(watched.err).toBe('');
    const lines = watched.out.trimEnd().split('\n');
    const states = lines.map((l) => WorkflowStateSchema.parse(JSON.parse(l)));
    expect(states[0].status).toBe('awaiting_approval');
    expect(states[states.length - 1]).toMatchObject({ status: 'completed', approved: true, approved_by: 'alice', approval_comment: 'ship it' });
    expect(states.map((s) => s.status)).toContain('rolling_out');
    // One line per change: no two consecutive lines are the same state.
    for (let i = 1; i < lines.length; i++) expect(lines[i]).not.toBe(lines[i - 1]);
    expect(states[states.length - 1].rollout_history.map((r) => [r.stage, r.status])).toEqual([
      ['20%', 'success'],
      ['100%', 'success'],
    ]);
  });

  it('approve again is the gateway\'s 409, one line on stderr', async () => {
    const r = await cli(['approve', id, '--by', 'alice']);
    expect(r.code).toBe(EXIT.failure);
    expect(r.out).toBe('');
    expect(r.err).toBe(`servetune: Rollout ${id} is completed (complete), not awaiting approval (HTTP 409)\n`);
  });

  it('status of the finished rollout lists its stages', async () => {
    const r = await cli(['status', id]);
    expect(r.out).toMatch(/^Stages$/m);
    expect(r.out).toMatch(/^\s+20%\s+success\s+/m);
    expect(r.out).toMatch(/improvement\s+[+-]\d/);
  });
});

describe('reject', () => {
  it('start (text), then reject with a reason', async () => {
    const started = await cli(['start', '--instance', stack.deployments[1], '--engine', 'vllm', '--approval', '--window', '1']);
    expect(started.code).toBe(0);
    const id = /^Started (rollout-\S+) for /.exec(started.out)?.[1];
    expect(id).toBeDefined();
    expect(started.out).toContain(`servetune watch ${id}`);
    await waitForState(stack, id!, (s) => s.status === 'awaiting_approval');

    const rejected = await cli(['reject', id!, '--reason', 'change freeze', '--by', 'bob', '--json']);
    expect(jsonState(rejected)).toMatchObject({ approved: false, rejected_by: 'bob', rejection_reason: 'change freeze' });
    await waitForState(stack, id!, isTerminal);

    const watched = await cli(['watch', id!]);
    expect(watched.code).toBe(EXIT.notCompleted);
    expect(watched.out).toMatch(/\| rejected \| .* \| rejected by bob: change freeze\n$/);
  });

  it('reject without --by records the login name', async () => {
    const { workflow_id: id } = jsonState(await cli(['start', '--instance', stack.deployments[1], '--engine', 'vllm', '--approval', '--window', '1', '--json']));
    await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
    const r = await cli(['reject', id], { env: { SERVETUNE_URL: url, USER: 'dave' } });
    expect(r).toEqual({ code: 0, out: `Rejected ${id} as dave: now rejected\n`, err: '' });
  });
});

describe('promote and abort', () => {
  it('a rollout started with --no-auto-rollout waits after each stage until promote moves it on', async () => {
    const deployment = stack.deployments[4];
    const { workflow_id: id } = jsonState(await cli(['start', '--instance', deployment, '--engine', 'vllm', '--no-auto-rollout', '--stages', '50,100', '--window', '1', '--json']));
    await waitForState(stack, id, (s) => s.current_step === 'await_promotion' || isTerminal(s));
    const before = await cli(['status', id, '--json']);
    expect(jsonState(before)).toMatchObject({ current_step: 'await_promotion', current_stage: '50%' });

    const promoted = await cli(['promote', id, '--by', 'erin']);
    expect(promoted).toMatchObject({ code: 0, err: '' });
    expect(promoted.out).toMatch(new RegExp(`^Promoted ${id}: now \\w+ \\(`));
    const done = await waitForState(stack, id, (s) => s.current_step === 'await_promotion' || isTerminal(s));
    expect(done).toMatchObject({ status: 'completed' });
    expect(done.rollout_history.map((r) => [r.stage, r.status])).toEqual([['50%', 'success'], ['100%', 'success']]);
    expect(done.audit.filter((a) => a.action === 'promote')).toEqual([expect.objectContaining({ actor: 'erin', channel: 'rest' })]);
  });

  it('abort stops a rollout and is recorded with who and why', async () => {
    const { workflow_id: id } = jsonState(await cli(['start', '--instance', stack.deployments[1], '--engine', 'vllm', '--approval', '--window', '1', '--json']));
    await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
    const aborted = await cli(['abort', id, '--reason', 'pager', '--by', 'oncall']);
    expect(aborted).toMatchObject({ code: 0, err: '' });
    expect(aborted.out).toMatch(new RegExp(`^Abort of ${id} accepted: now \\w+`));
    const end = await waitForState(stack, id, isTerminal);
    expect(end).toMatchObject({ status: 'rejected', error_message: 'Aborted by oncall: pager' });
    expect(end.audit.filter((a) => a.action === 'abort')).toEqual([expect.objectContaining({ actor: 'oncall', channel: 'rest', detail: 'pager' })]);
  });

  it('promote of a rollout that is not waiting for promotion is the gateway\'s 409', async () => {
    const { workflow_id: id } = jsonState(await cli(['start', '--instance', stack.deployments[1], '--engine', 'vllm', '--approval', '--window', '1', '--json']));
    await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
    const r = await cli(['promote', id]);
    expect(r.code).toBe(EXIT.failure);
    expect(r.err).toMatch(/not awaiting promotion \(HTTP 409\)\n$/);
    await cli(['reject', id]);
  });
});

describe('--version', () => {
  it('prints the package version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });
});

describe('watch of a rollout that rolls back', () => {
  it('exits 3; appends one line per change off a terminal and redraws in place on one', async () => {
    const deployment = stack.deployments[2];
    await axios.post(`${deployment}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0, severity: 0.4 });
    const state = jsonState(await cli(['start', '--instance', deployment, '--engine', 'vllm', '--window', '2', '--json']));
    const [lines, tty] = await Promise.all([cli(['watch', state.workflow_id, '--interval', '0.2']), cli(['watch', state.workflow_id, '--interval', '0.2'], { tty: true })]);

    expect(lines.code).toBe(EXIT.notCompleted);
    expect(lines.err).toBe('');
    const appended = lines.out.trimEnd().split('\n');
    expect(appended.length).toBeGreaterThan(2);
    expect(appended.every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z \| \w+ \| \w+ \| \[[█░]{10}\] \d+% \| health /.test(l))).toBe(true);
    expect(appended.some((l) => / left in 10%/.test(l))).toBe(true);
    expect(appended[appended.length - 1]).toMatch(/\| rolled_back \| .*Health score dropped below threshold \(\d+\.\d < \d+\.\d\), rolled back changes$/);
    expect(lines.out).not.toContain('\x1b[');

    expect(tty.code).toBe(EXIT.notCompleted);
    expect(tty.out).toContain('\r\x1b[5A\x1b[0J'); // cursor back over the five-line view, cleared
    const finalView = tty.out.split('\x1b[0J').pop()!;
    expect(finalView).toContain(state.workflow_id);
    expect(finalView).toMatch(/rolled_back/);
    expect(finalView).toMatch(/stages\s+\[░{20}\]\s+0%/);
    await axios.delete(`${deployment}/sim/v1/faults`);
  });
});

describe('errors: one line on stderr, non-zero exit', () => {
  it('unknown id: status, approve, reject and watch answer the gateway\'s 404', async () => {
    for (const args of [['status', 'rollout-nope'], ['approve', 'rollout-nope'], ['reject', 'rollout-nope'], ['watch', 'rollout-nope', '--json']]) {
      expect([args[0], await cli(args)]).toEqual([args[0], { code: EXIT.failure, out: '', err: 'servetune: No rollout with id rollout-nope (HTTP 404)\n' }]);
    }
  });

  it('a deployment with a rollout in progress: the gateway\'s 409', async () => {
    await cli(['start', '--instance', stack.deployments[3], '--engine', 'vllm', '--approval', '--window', '1']);
    const r = await cli(['start', '--instance', stack.deployments[3], '--engine', 'vllm']);
    expect(r.code).toBe(EXIT.failure);
    expect(r.err).toMatch(new RegExp(`^servetune: Deployment ${stack.deployments[3].replace(/[.:/]/g, '\\$&')} already has a rollout in progress: rollout-\\S+ \\(HTTP 409\\)\\n$`));
  });

  it('bad options are usage errors (exit 2), checked before any call', async () => {
    expect(await cli(['start', '--instance', 'a:1', '--engine', 'vllm', '--stages', '10,50'])).toEqual({ code: EXIT.usage, out: '', err: 'servetune: --stages: stages must end at 100\n' });
    expect(await cli(['start', '--instance', 'a:1', '--engine', 'vllm', '--threshold', 'high'])).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(/--threshold.*expected a number/) });
    expect(await cli(['start', '--instance', 'a:1', '--engine', 'llamacpp'])).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(/Allowed choices are vllm, tgi, sglang/) });
    expect(await cli(['list', '--status', 'done'])).toMatchObject({ code: EXIT.usage });
    expect(await cli(['status'])).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(/missing required argument 'id'/) });
  });

  it('an unreachable gateway and a bad SERVETUNE_URL', async () => {
    expect(await cli(['list'], { env: { SERVETUNE_URL: 'http://127.0.0.1:1' } })).toEqual({
      code: EXIT.failure,
      out: '',
      err: 'servetune: cannot reach the gateway at http://127.0.0.1:1: ECONNREFUSED\n',
    });
    expect(await cli(['list'], { env: { SERVETUNE_URL: 'ftp://x' } })).toMatchObject({ code: EXIT.usage, err: 'servetune: SERVETUNE_URL must be an http or https URL: ftp://x\n' });
    expect(gatewayUrl({})).toBe('http://127.0.0.1:8002');
    expect(gatewayUrl({ SERVETUNE_URL: 'gw.example:8002/' })).toBe('http://gw.example:8002');
  });

  it('with tokens: SERVETUNE_TOKEN is sent as a bearer token; without it the gateway\'s 401', async () => {
    expect(await cli(['list'], { env: { SERVETUNE_URL: securedUrl } })).toEqual({ code: EXIT.failure, out: '', err: 'servetune: A bearer token is required (HTTP 401)\n' });
    expect(await cli(['list', '--limit', '1'], { env: { SERVETUNE_URL: securedUrl, SERVETUNE_TOKEN: 'wrong-token-0123456789' } })).toMatchObject({ code: EXIT.failure, err: 'servetune: Unknown bearer token (HTTP 401)\n' });
    const ok = await cli(['list', '--limit', '1', '--json'], { env: { SERVETUNE_URL: securedUrl, SERVETUNE_TOKEN: TOKEN } });
    expect(ok.code).toBe(0);
    expect(WorkflowListSchema.parse(JSON.parse(ok.out)).workflows.length).toBe(1);
  });
});

describe('bin/servetune.js', () => {
  const exec = promisify(execFile);
  const servetune = (...args: string[]) =>
    exec(process.execPath, [path.join(ROOT, 'bin/servetune.js'), ...args], { cwd: ROOT, env: { ...process.env, SERVETUNE_URL: url }, timeout: 60_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('list --json and an unknown id, as a process', async () => {
    const listed = await servetune('list', '--json');
    expect(listed.code).toBe(0);
    expect(WorkflowListSchema.parse(JSON.parse(listed.stdout)).workflows.length).toBeGreaterThan(0);
    expect(await servetune('status', 'rollout-nope')).toEqual({ code: 1, stdout: '', stderr: 'servetune: No rollout with id rollout-nope (HTTP 404)\n' });
  });
});
