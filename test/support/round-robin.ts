import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy passed it on: to which process (port), and what it answered. */
export interface Forwarded {
  method: string;
  path: string;
  port: number;
  status: number;
  location?: string;
}

export interface RoundRobinOptions {
  /** The host name in `url` (default 127.0.0.1); `localhost` makes it another site than a simulator on 127.0.0.1. */
  host?: string;
  /** Record every request in `forwarded` (tests asking which process served what; not for long benchmarks). */
  record?: boolean;
}

export interface RoundRobin {
  url: string;
  /** Requests sent to each port. */
  hits: Map<number, number>;
  /** Every request passed on, in the order answered, when recording. */
  forwarded: Forwarded[];
  /** The ports requests go to, in turn (set once the processes behind it listen). */
  ports: number[];
  close(): Promise<void>;
}

/**
 * A round-robin HTTP proxy on loopback, as a load balancer in front of several Jejak processes:
 * each request goes to the next port, so one student's requests land on every process in turn.
 */
export async function roundRobin(ports: number[] = [], o: RoundRobinOptions = {}): Promise<RoundRobin> {
  let next = 0;
  const hits = new Map<number, number>();
  // Keep-alive to the processes, as a load balancer does: a fresh connection per request would measure the proxy.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const self: RoundRobin = {
    url: '', hits, ports, forwarded: [],
    close: () => new Promise((r) => { server.closeAllConnections(); agent.destroy(); server.close(() => r()); }),
  };
  const server = http.createServer((req, res) => {
    const port = self.ports[next++ % self.ports.length];
    hits.set(port, (hits.get(port) ?? 0) + 1);
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => send(false));
    const send = (retry: boolean) => {
      const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers, agent }, (r) => {
        if (o.record) self.forwarded.push({ method: req.method!, path: req.url!, port, status: r.statusCode!, location: r.headers.location });
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      up.on('error', () => {
        // A kept-alive connection the process closed just as it was reused: the request never arrived, send it again (as nginx does).
        if (up.reusedSocket && !retry && !res.headersSent) return send(true);
        if (res.headersSent) res.destroy();
        else res.writeHead(502).end();
      });
      up.end(Buffer.concat(body));
    };
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self.url = `http://${o.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  return self;
}
