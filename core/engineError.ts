/**
 * The line of an engine's stderr that says why it refused to start, so a rejected push answers with
 * the engine's own words instead of the last lines of its output (for argparse, the tail of a usage
 * text hundreds of lines long; for Python, the middle of a traceback).
 *
 * Order of preference, each taken from the end (the last error is the one that stopped the engine):
 * 1. argparse's own error line: `prog: error: message` (vLLM, SGLang);
 * 2. the last Python exception line (`pkg.module.SomeError: message`, `ValueError: message`), with the
 *    indented or field lines that follow it (pydantic lists one failing field per pair of lines);
 * 3. a line containing "error" (TGI's Rust launcher: `Error: ...`, `ERROR ...`);
 * 4. the last line.
 */

const ARGPARSE_ERROR = /^\S+: error: \S/;
const PYTHON_EXCEPTION = /^(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit)(?::\s|$)/;
/** pydantic's "For further information visit …" and blank lines add nothing. */
const NOISE = /^\s*(For further information visit|$)/;
const MAX_DETAIL_LINES = 6;

/** Strips a log prefix some engines put before every line, e.g. vLLM's `(APIServer pid=12) `. */
const stripPrefix = (line: string): string => line.replace(/^\((?:APIServer|EngineCore)[^)]*\)\s*/, '').trimEnd();

export function engineErrorLine(stderr: readonly string[]): string | null {
  const lines = stderr.map(stripPrefix).filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  for (let i = lines.length - 1; i >= 0; i--) if (ARGPARSE_ERROR.test(lines[i])) return lines[i];
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!PYTHON_EXCEPTION.test(lines[i])) continue;
    const details = lines.slice(i + 1).filter((l) => !NOISE.test(l)).slice(0, MAX_DETAIL_LINES).map((l) => l.trim());
    return [lines[i], ...details].join(' | ');
  }
  for (let i = lines.length - 1; i >= 0; i--) if (/error/i.test(lines[i])) return lines[i].trim();
  return lines[lines.length - 1].trim();
}
