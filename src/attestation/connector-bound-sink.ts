import type { MessageSink } from '../common/latest-value-pusher';

/**
 * A stream's outgoing side that checks, before every message, that the caller is still the process
 * that connected (connector-binding.ts). The check runs only for messages actually sent — not for
 * every store change broadcast to every stream — so it costs a few /proc reads per push. A failed
 * check throws out of write(), which ends the stream with the mapped status (UNAUTHENTICATED).
 */
export function connectorBoundSink(stream: MessageSink, verifyConnector: () => void): MessageSink {
  return {
    write(message) {
      verifyConnector();
      return stream.write(message);
    },
    on: (event, listener) => stream.on(event, listener),
    off: (event, listener) => stream.off(event, listener),
  };
}
