import { connect, type TLSSocket } from 'node:tls';

/**
 * A raw TLS connection to a listener, for requests written a piece at a time (headers or a body left
 * unfinished on purpose). What the server sends is kept; `answer` resolves once it has closed the connection.
 */
export async function rawTlsConnection(host: string, port: number, ca: string[]) {
  const socket: TLSSocket = connect({ host, port, ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    write: (text: string) => new Promise<void>((resolve) => socket.write(text, () => resolve())),
    /** What the server has sent so far. */
    received: () => received,
    /** Everything the server sent, once it has closed the connection. */
    async answer() {
      await closed;
      return received;
    },
  };
}
