// Talking to a container's busybox httpd from the test process: a GET through a (forwarded) port on
// 127.0.0.1, and a request written on a socket tsrun connected inside the container's network.
import { get } from 'node:http';
import type { Socket } from 'node:net';

/** The body of GET /index.html on 127.0.0.1:port (rejects with the connect error, e.g. ECONNREFUSED). */
export function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/index.html', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Writes `text` (default: GET /index.html over HTTP/1.0), ends the socket's side, and resolves with all it answers until it closes. */
export function request(sock: Socket, text = 'GET /index.html HTTP/1.0\r\n\r\n'): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    sock.on('data', (c: Buffer) => { got += c.toString(); });
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
    sock.end(text);
  });
}
