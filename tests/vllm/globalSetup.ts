import projectSetup from '../helpers/globalSetup';
import { ensureVllm } from '../../scripts/vllmInstall';

/** The project's own setup (Temporal binaries, workflow bundle), plus the real engine and the tiny model. */
export default async function globalSetup(): Promise<void> {
  await projectSetup();
  const { venv, model } = ensureVllm((line) => console.log(`[tools] ${line}`));
  process.env.SERVETUNE_VLLM_VENV = venv;
  process.env.SERVETUNE_TINY_MODEL = model;
}
