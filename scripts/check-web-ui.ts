/**
 * `npm run check:web-ui`: checks in a real browser that the Temporal Web UI tells a rollout's story
 * (docs/web-ui.md). Runs a rollout that rolls back (a simulator fault) and one that completes, then loads
 * the Web UI's workflow list and each rollout's page in headless Chromium (Debian's `chromium`, or
 * CHROMIUM_PATH), and reads the same through the UI server's own REST API. Prints what it found; exits 1
 * when something is missing.
 *
 * By default it starts its own stack on free ports (a Temporal dev server with its UI, the fleet
 * simulator, a worker and the gateway) and stops it at the end. With `--running` it uses the stack of
 * `npm start` instead, at its default addresses (GATEWAY_URL, TEMPORAL_UI_URL, SIM_VLLM_URL and
 * SIM_SGLANG_URL override them). WEB_UI_DUMP_DIR=<dir> keeps each page's rendered DOM there.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import axios from 'axios';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createApp } from '../api/app';
import { deploymentGuardId, isTerminalStatus, STATUS_KEY } from '../contract';
import { canonicalDeploymentKey } from '../core/targetAddress';
import type { WorkflowState } from '../models';
import { createFleetSimulator, type FleetSimulator } from '../simulator/simulatedFleet';
import { createRolloutWorker, loadWorkflowBundle } from '../worker/createWorker';
import { devServerArgs } from './devServer';
import { freePort, spawnNamed, waitForPort } from './processes';
import { ensureTemporalBinaries } from './temporalBinaries';

const run = promisify(execFile);
const NAMESPACE = 'default';
/** The saved view of docs/web-ui.md: rollouts that did not complete. */
const NOT_COMPLETED_VIEW = `WorkflowType="rolloutWorkflow" AND ${STATUS_KEY.name}!="completed"`;

interface Target {
  gateway: string;
  ui: string;
  vllm: string;
  sglang: string;
  stop(): Promise<void>;
}

function runningTarget(): Target {
  return {
    gateway: process.env.GATEWAY_URL ?? 'http://127.0.0.1:8002',
    ui: process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233',
    vllm: process.env.SIM_VLLM_URL ?? 'http://127.0.0.1:8000',
    sglang: process.env.SIM_SGLANG_URL ?? 'http://127.0.0.1:30000',
    stop: async () => undefined,
  };
}

/** A whole stack of its own, on free ports, so it never meets another one on this machine. */
async function embeddedTarget(): Promise<Target> {
  const { cli } = ensureTemporalBinaries((line) => console.log(`[tools] ${line}`));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'servetune-web-ui-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  const temporal: ChildProcess = spawnNamed('temporal', cli, devServerArgs({ ip: '127.0.0.1', port, uiPort, namespace: NAMESPACE, dbFile: path.join(dir, 'temporal.db') }));
  await waitForPort('127.0.0.1', port, 60_000, 'Temporal');
  await waitForPort('127.0.0.1', uiPort, 60_000, 'Temporal Web UI');
  const address = `127.0.0.1:${port}`;
  const sim: FleetSimulator = await createFleetSimulator({
    deployments: [
      { engine: 'vllm', port: 0, replicas: 10 },
      { engine: 'sglang', port: 0, replicas: 10 },
    ],
  });
  const taskQueue = 'servetune-web-ui-check';
  const worker: Worker = await createRolloutWorker({
    connection: await NativeConnection.connect({ address }),
    namespace: NAMESPACE,
    taskQueue,
    workflowBundle: await loadWorkflowBundle(),
  });
  const working = worker.run();
  const connection = await Connection.connect({ address });
  const app = createApp(new Client({ connection, namespace: NAMESPACE }), { taskQueue });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const gatewayPort = (server.address() as { port: number }).port;
  return {
    gateway: `http://127.0.0.1:${gatewayPort}`,
    ui: `http://127.0.0.1:${uiPort}`,
    vllm: sim.deployments[0].url,
    sglang: sim.deployments[1].url,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      worker.shutdown();
      await working;
      await connection.close();
      await sim.close();
      temporal.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startRollout(t: Target, body: Record<string, unknown>): Promise<string> {
  const res = await axios.post(`${t.gateway}/api/v1/workflows`, body, { headers: { 'Content-Type': 'application/json' } });
  return res.data.workflow_id as string;
}

async function waitForEnd(t: Target, id: string, timeoutMs = 180_000): Promise<WorkflowState> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await axios.get<WorkflowState>(`${t.gateway}/api/v1/workflows/${id}`, { validateStatus: () => true });
    if (res.status === 200 && isTerminalStatus(res.data.status)) return res.data;
    await sleep(500);
  }
  throw new Error(`rollout ${id} did not end within ${timeoutMs / 1000} s`);
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? 'chromium';

/** The page as the SPA rendered it: headless Chromium runs its scripts for a virtual 15 s, then prints the DOM. */
async function renderedDom(url: string): Promise<string> {
  const { stdout } = await run(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--virtual-time-budget=15000', '--dump-dom', url],
    { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
  );
  if (process.env.WEB_UI_DUMP_DIR) writeFileSync(path.join(process.env.WEB_UI_DUMP_DIR, `${new URL(url).pathname.split('/').slice(-3).join('_')}.html`), stdout);
  return stdout;
}

/** The rendered page's text: tags out, entities that matter back in, whitespace folded. */
async function renderedText(url: string): Promise<string> {
  return (await renderedDom(url))
    .replace(/<script[^]*?<\/script>|<style[^]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ');
}

/**
 * The Web UI renders summary and details Markdown in an iframe (`/render?content=…`), which `--dump-dom`
 * does not descend into: answers the iframe's address and the Markdown it was given.
 */
function markdownFrame(dom: string, frameId: string): { src: string; markdown: string } | null {
  const tag = new RegExp(`<iframe[^>]*id="${frameId}"[^>]*>`).exec(dom)?.[0] ?? '';
  const src = /src="([^"]+)"/.exec(tag)?.[1]?.replace(/&amp;/g, '&');
  if (!src) return null;
  return { src, markdown: new URL(src, 'http://ui').searchParams.get('content') ?? '' };
}

/** The UI server's REST API: what the SPA itself fetches. */
async function uiApi<T>(t: Target, apiPath: string, body?: unknown): Promise<T> {
  const url = `${t.ui}/api/v1/namespaces/${NAMESPACE}${apiPath}`;
  if (body === undefined) return (await axios.get<T>(url)).data;
  // A POST (a query) needs the CSRF token the UI server hands out as a cookie, echoed in a header as the SPA does.
  const cookie = (await axios.get(`${t.ui}/api/v1/settings`)).headers['set-cookie']?.find((c) => c.startsWith('_csrf='));
  const token = cookie?.split(';')[0].slice('_csrf='.length) ?? '';
  return (await axios.post<T>(url, body, { headers: { Cookie: `_csrf=${token}`, 'X-CSRF-TOKEN': token } })).data;
}

interface Described {
  workflowExecutionInfo: { execution: { runId: string } };
  executionConfig?: { userMetadata?: { summary?: { data?: string }; details?: { data?: string } } };
}

/** A JSON payload as the HTTP API answers it: base64 of the JSON text. */
function payloadText(p?: { data?: string }): string {
  if (!p?.data) return '';
  return JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as string;
}

const found: Array<{ ok: boolean; what: string }> = [];
function check(ok: boolean, what: string): void {
  found.push({ ok, what });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

function excerpt(text: string, needle: string, width = 160): string {
  const at = text.indexOf(needle);
  return at < 0 ? '(absent)' : text.slice(Math.max(0, at - 20), at + width).trim();
}

async function main(): Promise<void> {
  const running = process.argv.includes('--running');
  const t = running ? runningTarget() : await embeddedTarget();
  try {
    console.log(`stack: gateway ${t.gateway}, Web UI ${t.ui}${running ? ' (running)' : ' (started here)'}`);
    await axios.post(`${t.sglang}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 });
    const rolledBackId = await startRollout(t, { instance_id: new URL(t.sglang).host, instance_type: 'sglang', monitoring_duration_seconds: 5 });
    const completedId = await startRollout(t, { instance_id: new URL(t.vllm).host, instance_type: 'vllm', monitoring_duration_seconds: 5 });
    console.log(`started ${rolledBackId} (fault: rolls back) and ${completedId} (completes)`);
    const [rolledBack, completed] = await Promise.all([waitForEnd(t, rolledBackId), waitForEnd(t, completedId)]);
    await axios.delete(`${t.sglang}/sim/v1/faults`);
    console.log(`ended: ${rolledBackId} ${rolledBack.status} (${rolledBack.error_message}); ${completedId} ${completed.status}`);
    check(rolledBack.status === 'rolled_back' && completed.status === 'completed', 'one rollout rolled back, one completed');

    console.log('\n— Web UI REST API (the UI server at /api/v1) —');
    for (const [id, state] of [
      [rolledBackId, rolledBack],
      [completedId, completed],
    ] as const) {
      const d = await uiApi<Described>(t, `/workflows/${encodeURIComponent(id)}`);
      const summary = payloadText(d.executionConfig?.userMetadata?.summary);
      console.log(`${id} summary: ${summary}`);
      check(summary.startsWith(`rollout ${state.instance_id} (${state.instance_type})`), `${state.status} rollout: static summary recorded`);
      const meta = await uiApi<{ queryResult?: { payloads?: Array<{ data?: string }> } }>(t, `/workflows/${encodeURIComponent(id)}/query/__temporal_workflow_metadata`, {
        query: { queryType: '__temporal_workflow_metadata' },
      });
      const payload = meta.queryResult?.payloads?.[0];
      const details = payload?.data ? (JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as { currentDetails?: string }).currentDetails ?? '' : '';
      console.log(`${id} current details, first line: ${details.split('\n')[0]}`);
      const headline = state.status === 'rolled_back' ? `**Rolled back**: ${state.error_message}` : '**Completed**: ';
      check(details.startsWith(headline), `${state.status} rollout: current details start with the outcome and why`);
    }

    const ui = `${t.ui}/namespaces/${NAMESPACE}/workflows`;
    console.log('\n— Headless Chromium: workflow list —');
    const list = await renderedText(ui);
    for (const id of [rolledBackId, completedId]) check(new RegExp(`${id} [0-9a-f-]{36} rolloutWorkflow`).test(list), `list shows ${id} as a rolloutWorkflow`);
    check(/deployment-guard:\S+ \S+ deploymentGuardWorkflow/.test(list), `list tells the guards apart by ID and type: "${excerpt(list, 'deployment-guard:', 110)}"`);
    const notCompleted = await renderedText(`${ui}?query=${encodeURIComponent(NOT_COMPLETED_VIEW)}`);
    check(
      notCompleted.includes(rolledBackId) && !notCompleted.includes(completedId) && !notCompleted.includes('deploymentGuardWorkflow'),
      `saved view ${NOT_COMPLETED_VIEW} lists the rolled-back rollout only`,
    );

    for (const [id, state] of [
      [rolledBackId, rolledBack],
      [completedId, completed],
    ] as const) {
      console.log(`\n— Headless Chromium: ${state.status} rollout's page, User Metadata tab —`);
      const runId = (await uiApi<Described>(t, `/workflows/${encodeURIComponent(id)}`)).workflowExecutionInfo.execution.runId;
      const page = `${ui}/${encodeURIComponent(id)}/${runId}`;
      const dom = await renderedDom(`${page}/user-metadata`);
      const summary = markdownFrame(dom, 'user-metadata-summary');
      const details = markdownFrame(dom, 'user-metadata-details');
      const current = markdownFrame(dom, 'user-metadata-current-details');
      check(summary?.markdown.startsWith(`rollout ${state.instance_id} (${state.instance_type})`) === true, `Summary: "${summary?.markdown}"`);
      check(details?.markdown.includes('**monitoring window**: 5 s per stage') === true, `Details: "${details?.markdown.split('\n').slice(0, 3).join(' ⏎ ')} …"`);
      const outcome = state.status === 'rolled_back' ? `**Rolled back**: ${state.error_message}` : '**Completed**: ';
      check(current?.markdown.startsWith(outcome) === true, `Current Details:\n${current?.markdown.replace(/^/gm, '       | ')}`);
      // A fleet already tuned (a second run against `npm start`) completes with no stage: no gate to show.
      if (state.rollout_history.length > 0) check(/- \*\*health\*\*: \d+\.\d [<≥] gate \d+\.\d/.test(current?.markdown ?? ''), 'Current Details show health against the gate');
      if (current) {
        // The iframe's own page: the Markdown rendered as HTML (bold headline, one list item per line).
        const html = await renderedDom(`${t.ui}${current.src}`);
        check(/<strong>(Rolled back|Completed)<\/strong>/.test(html) && (html.match(/<li>/g)?.length ?? 0) >= 2, 'Current Details render as Markdown (bold outcome, a list)');
      }
      if (state.status !== 'rolled_back') continue;
      console.log(`\n— Headless Chromium: ${state.status} rollout's page, event history —`);
      const history = await renderedText(`${page}/history`);
      check(history.includes('Summary push revision'), `activity summaries: "${excerpt(history, 'Summary push revision', 110)}"`);
      check(history.includes('Summary monitoring window'), `timer summaries: "${excerpt(history, 'Summary monitoring window', 70)}"`);
      check(history.includes('Summary roll back'), `rollback summary: "${excerpt(history, 'Summary roll back', 70)}"`);
    }

    console.log('\n— Headless Chromium: a guard’s page, User Metadata tab —');
    const guardId = deploymentGuardId(canonicalDeploymentKey(rolledBack.instance_id));
    const guardRun = (await uiApi<Described>(t, `/workflows/${encodeURIComponent(guardId)}`)).workflowExecutionInfo.execution.runId;
    const guardDom = await renderedDom(`${ui}/${encodeURIComponent(guardId)}/${guardRun}/user-metadata`);
    const guardSummary = markdownFrame(guardDom, 'user-metadata-summary')?.markdown ?? '';
    const guardCurrent = markdownFrame(guardDom, 'user-metadata-current-details')?.markdown ?? '';
    check(guardSummary.startsWith('deployment guard for '), `guard Summary: "${guardSummary}"`);
    check(guardCurrent.includes(`rollout **${rolledBackId}**`), `guard Current Details: "${guardCurrent.replace(/\n+/g, ' ')}"`);
  } finally {
    await t.stop();
  }
  const failed = found.filter((f) => !f.ok);
  console.log(`\n${found.length - failed.length} of ${found.length} checks passed`);
  process.exit(failed.length === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
