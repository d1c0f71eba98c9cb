/**
 * A node in a process of its own, for the kill -9 test (crash.test.ts): started on the data
 * directory given as the first argument, it prints `READY <url>` once it serves requests and then
 * runs until it is killed.
 */
import { parseConfig } from '../../connector/config.js';
import { startNode } from '../../connector/node.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: crash-child.ts <dataDir>');
const node = await startNode(
  parseConfig({ port: 0, host: '127.0.0.1', dataDir, silent: true, repository: { repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2' } }),
);
process.stdout.write(`READY ${node.url}\n`);
