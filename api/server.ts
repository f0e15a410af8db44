import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { isLoopbackAddress } from './auth';
import { HttpError } from './httpError';

/**
 * Starts the gateway's HTTP server. Resolves once it listens; rejects with a message naming the address
 * when it cannot bind (port in use, no such interface, a host name that does not resolve), so the
 * process exits non-zero instead of logging "listening" and exiting 0.
 */
export function listenGateway(app: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(app);
  server.on('clientError', answerClientError);
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${port}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' ')));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve(server);
    });
  });
}

/** Without tokens the server must be bound to loopback, judged by the address it really got, not the HOST text. */
export function requireLoopbackWithoutTokens(server: Server, tokensEnabled: boolean): void {
  const bound = (server.address() as AddressInfo).address;
  if (!tokensEnabled && !isLoopbackAddress(bound)) {
    throw new Error(`refusing to listen on ${bound} without API tokens: set SERVETUNE_API_TOKENS or SERVETUNE_API_TOKENS_FILE, or HOST=127.0.0.1`);
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Requests Node's HTTP parser refuses never reach express; Node would answer them with a bare status
 * line. They get the gateway's error body instead: a request line or headers over Node's 16 KiB limit
 * (a 20 KB path) is 431 `request_too_large`, other malformed requests are 400.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const error =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new HttpError(431, 'request_too_large', 'The request line and headers together exceed 16 KiB; shorten the path, query or headers', [
          { field: '(request line)', message: 'too large' },
        ])
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new HttpError(408, 'request_timeout', 'The request was not received in time')
        : new HttpError(400, 'bad_request', `Malformed HTTP request (${err.code ?? 'parse error'})`);
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${REASONS[error.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
