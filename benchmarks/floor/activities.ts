/** The floor's activity: does nothing, so its cost is exactly what Temporal charges for one activity. */
export async function noop(): Promise<void> {
  // nothing
}
