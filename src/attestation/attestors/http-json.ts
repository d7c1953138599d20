import type http from 'node:http';

export interface JsonResponse {
  readonly status: number;
  /** The parsed body; undefined when it was not JSON (an error page, an empty 401). */
  readonly body: unknown;
}

export interface JsonRequestLimits {
  /** A larger body is refused rather than buffered. */
  readonly maxBytes: number;
  /** Socket inactivity after which the request is abandoned. */
  readonly timeoutMs: number;
}

type Request = (options: http.RequestOptions, callback: (response: http.IncomingMessage) => void) => http.ClientRequest;

/**
 * One GET whose answer is JSON, over node:http or node:https (`request` is their `request`).
 * Rejects with a plain Error saying why (TLS, refused connection, timeout, oversized body); callers
 * name themselves in the error they wrap it in. Request headers never appear in an error.
 */
export function getJson(request: Request, options: http.RequestOptions, limits: JsonRequestLimits): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ ...options, method: 'GET', timeout: limits.timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          outgoing.destroy(new Error(`response larger than ${limits.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: parseOrUndefined(Buffer.concat(chunks).toString('utf8')) }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${limits.timeoutMs} ms`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code ? `${error.code}: ${error.message}` : error.message)));
    outgoing.end();
  });
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
