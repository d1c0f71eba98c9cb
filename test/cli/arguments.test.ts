/**
 * What the operator sees when something is wrong before any document moves: bad arguments are
 * exit 2 with the command's usage, an unreachable node exit 3, and never a stack trace.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { cli, cliProcess, hasStackTrace, SAMPLE_PDF } from './helpers.js';

/** A port nothing listens on: bound, noted, released. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('koblingspunkt: arguments and unreachable nodes', function () {
  this.timeout(30_000);

  it('without a command: the overview on stderr, exit 2; --help: on stdout, exit 0', async () => {
    const none = await cli([]);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain('usage: koblingspunkt <command>');
    const help = await cli(['--help']);
    expect(help.code).to.equal(0);
    for (const name of ['start', 'check-config', 'register', 'query', 'retrieve', 'import', 'backup']) expect(help.stdout).to.match(new RegExp(`^  ${name} `, 'm'));
  });

  it('every command has --help, exit 0', async () => {
    for (const name of ['start', 'check-config', 'register', 'query', 'retrieve', 'import', 'backup']) {
      const res = await cli([name, '--help']);
      expect(res.code, name).to.equal(0);
      expect(res.stdout, name).to.match(/^usage: koblingspunkt /);
    }
  });

  const usageErrors: [string, string[], RegExp][] = [
    ['an unknown command', ['regster'], /^koblingspunkt: unknown command 'regster'/],
    ['an unknown option', ['query', '--patient', '13116900216', '--colour'], /^koblingspunkt query: Unknown option '--colour'/],
    ['a missing --patient', ['register', SAMPLE_PDF], /^koblingspunkt register: --patient is required\nusage: koblingspunkt register /],
    ['no file to register', ['register', '--patient', '13116900216'], /name at least one file/],
    ['a file that does not exist', ['register', 'finnes-ikke.pdf', '--patient', '13116900216'], /cannot read .*finnes-ikke\.pdf: ENOENT/],
    ['a patient that is neither a number nor a CX', ['query', '--patient', 'Kari Nordmann'], /^koblingspunkt query: --patient "Kari Nordmann" is neither an 11-digit fødselsnummer/],
    ['a malformed CX', ['query', '--patient', '13116900216^^^&2.16.578&XX'], /^koblingspunkt query: --patient CX "13116900216\^\^\^&2\.16\.578&XX" assigning authority type must be ISO\n/],
    ['an unknown class code', ['register', SAMPLE_PDF, '--patient', '13116900216', '--class', 'Z99'], /--class Z99 is not a code this tool knows by name/],
    ['a bad date', ['query', '--patient', '13116900216', '--from', '20. november'], /--from "20\. november": expected YYYY-MM-DD/],
    ['a bad status', ['query', '--patient', '13116900216', '--status', 'gone'], /--status gone/],
    ['a bad URL', ['query', '--patient', '13116900216', '--url', 'ftp://node'], /--url ftp:\/\/node: expected http/],
    ['a retrieve without a uniqueId', ['retrieve'], /name at least one document uniqueId/],
    ['a backup without a target', ['backup'], /name one target directory/],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`${what}: exit 2, one line and the usage`, async () => {
      const res = await cli(args);
      expect(res.code).to.equal(2);
      expect(res.stdout).to.equal('');
      expect(res.stderr).to.match(message);
      // The message is the first line; the usage follows.
      expect(res.stderr.split('\n')[1]).to.match(/^usage: koblingspunkt /);
      expect(hasStackTrace(res.stderr)).to.equal(false);
    });
  }

  it('an unreachable node (the real program, --url): one line, exit 3', async () => {
    const port = await closedPort();
    const res = await cliProcess(['query', '--patient', '13116900216', '--url', `http://127.0.0.1:${port}`]);
    expect(res.code).to.equal(3);
    expect(res.stdout).to.equal('');
    expect(res.stderr).to.equal(
      `koblingspunkt query: cannot reach http://127.0.0.1:${port}: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port} (is the node running? check --url or KOBLINGSPUNKT_URL)\n`,
    );
  });

  it('KOBLINGSPUNKT_URL is used when --url is not given; register of an unreachable node is exit 3 too', async () => {
    const port = await closedPort();
    const res = await cli(['register', SAMPLE_PDF, '--patient', '13116900216'], { env: { KOBLINGSPUNKT_URL: `http://127.0.0.1:${port}` } });
    expect(res.code).to.equal(3);
    expect(res.stderr).to.contain(`cannot reach http://127.0.0.1:${port}`);
  });

  it('a URL that answers but is no node: exit 3', async () => {
    const server = (await import('node:http')).createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const res = await cli(['query', '--patient', '13116900216', '--url', `http://127.0.0.1:${port}`]);
      expect(res.code).to.equal(3);
      expect(res.stderr).to.match(/did not answer as a koblingspunkt node: HTTP 404 with Content-Type 'text\/html'/);
    } finally {
      server.close();
    }
  });
});
