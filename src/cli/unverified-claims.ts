/** The claims of a JWT, read without verifying it: for display only. */
export function unverifiedClaims(token: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
