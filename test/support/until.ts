/**
 * Waits until `condition` holds, for steps that finish on real I/O (an HTTPS round trip) before
 * a fake clock can be advanced. Bounded so a broken step fails the test instead of hanging it;
 * the bound is never what a test asserts.
 */
export async function until(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
