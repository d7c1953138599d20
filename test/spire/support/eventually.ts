/**
 * Retries `attempt` until it resolves: server-side changes reach a node within a sync interval,
 * so tests poll for them. Bounded so a broken path fails instead of hanging; the bound is never
 * what a test asserts.
 */
export async function eventually<T>(attempt: () => Promise<T>, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
