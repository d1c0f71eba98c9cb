/**
 * The start lines, without a listener: a wildcard address is shown as such with the addresses a
 * client can use, the demo identities are warned about with the key to set, a MongoDB password
 * never reaches the log, and the endpoint lines follow what node.ts mounts.
 */
import { expect } from 'chai';
import type { NetworkInterfaceInfo } from 'node:os';
import { DEMO_HOME_COMMUNITY_ID, parseConfig, type NodeConfigInput } from '../../connector/config.js';
import { startLines, type StartFacts, type StartLine } from '../../connector/start-log.js';

const INTERFACES: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
  ],
  eth0: [
    { address: '192.0.2.7', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.0.2.7/24' },
    { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
    { address: '2001:db8::7', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: '2001:db8::7/64', scopeid: 0 },
  ],
};

function lines(input: NodeConfigInput, facts: Partial<StartFacts> = {}): StartLine[] {
  return startLines({ config: parseConfig(input), port: 41234, scheme: 'http', dataDir: '/srv/kp/data', gateways: true, interfaces: INTERFACES, ...facts });
}

const messages = (ls: StartLine[]): string[] => ls.map((l) => l.message);
const warnings = (ls: StartLine[]): string[] => ls.filter((l) => l.level === 'warn').map((l) => l.message);

describe('start lines', () => {
  it('show a wildcard IPv4 address as all interfaces, with the usable addresses and the bound port', () => {
    const [listening] = lines({});
    expect(listening?.message).to.equal('listening on http://0.0.0.0:41234 (all IPv4 interfaces): http://127.0.0.1:41234, http://192.0.2.7:41234');
    expect(listening?.meta).to.deep.include({ url: 'http://0.0.0.0:41234', port: 41234 });
  });

  it('show :: with IPv4 and IPv6 addresses, brackets around IPv6 and no link-local ones', () => {
    const [listening] = lines({ host: '::' });
    expect(listening?.message).to.equal(
      'listening on http://[::]:41234 (all interfaces, IPv6 and IPv4): http://127.0.0.1:41234, http://[::1]:41234, http://192.0.2.7:41234, http://[2001:db8::7]:41234',
    );
  });

  it('show a single address as it is', () => {
    expect(lines({ host: '127.0.0.1' })[0]?.message).to.equal('listening on http://127.0.0.1:41234');
    expect(lines({ host: '::1' }, { scheme: 'https' })[0]?.message).to.equal('listening on https://[::1]:41234');
  });

  it('say which configuration file was read and which environment variables applied', () => {
    const none = messages(lines({}, { origin: { environment: [] } }));
    expect(none).to.include('configuration file: none: defaults and environment');
    expect(none).to.include('environment overrides: none');
    const some = messages(lines({}, { origin: { file: '/etc/kp/node.json', environment: ['PORT', 'DATA_DIR'] } }));
    expect(some).to.include('configuration file: /etc/kp/node.json');
    expect(some).to.include('environment overrides: PORT, DATA_DIR');
  });

  it('warn about each demo identity in use, naming the key to set', () => {
    const demo = lines({});
    expect(messages(demo)).to.include(`homeCommunityId: ${DEMO_HOME_COMMUNITY_ID} (demo default)`);
    const warned = warnings(demo);
    expect(warned).to.have.length(2);
    expect(warned[0]).to.contain('set homeCommunityId').and.contain('HOME_COMMUNITY_ID');
    expect(warned[1]).to.contain('set repository.repositoryUniqueId');

    const own = lines({ homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1', repository: { repositoryUniqueId: '2.16.578.1.12.4.5.100.1.1' } });
    expect(warnings(own)).to.deep.equal([]);
    expect(messages(own)).to.include('homeCommunityId: urn:oid:2.16.578.1.12.4.5.100.1');
    expect(messages(own)).to.include('repositoryUniqueId: 2.16.578.1.12.4.5.100.1.1');
  });

  it('name the store and where it is, never a MongoDB password', () => {
    expect(messages(lines({}))).to.include('store: embedded (SQLite and files) in /srv/kp/data');
    const mongo = lines({ mongoUri: 'mongodb://kp:hunter2@db.example:27017/kp' });
    expect(messages(mongo)).to.include('store: MongoDB at mongodb://kp:****@db.example:27017/kp; audit queue in /srv/kp/data');
    expect(JSON.stringify(mongo)).not.to.contain('hunter2');
  });

  it('list the endpoints with their roles, the optional APIs only when configured', () => {
    const plain = messages(lines({})).filter((m) => m.startsWith('endpoint '));
    expect(plain.map((m) => m.split(':')[0])).to.deep.equal([
      'endpoint /health',
      'endpoint /xds/registry',
      'endpoint /xds/repository',
      'endpoint /xca/responding',
      'endpoint /xca/initiating',
    ]);
    expect(plain[1]).to.contain('Document Registry');
    expect(plain[4]).to.contain('over this node only');

    const token = 'a-token-of-at-least-16-characters';
    const all = messages(lines({ trust: { blocksApi: { token } }, audit: { accessLog: { token } } }));
    expect(all).to.include('endpoint /admin/patient-blocks: patient-block admin API (bearer token)');
    expect(all).to.include('endpoint /audit/access-log: patient access log API (bearer token)');
    expect(JSON.stringify(all)).not.to.contain(token);
  });

  it('describe hub mode and a remote registry', () => {
    const hub = messages(
      lines({
        gateway: { mode: 'hub', communities: [{ homeCommunityId: 'urn:oid:1.2.3', queryUrl: 'http://a.example/xca' }] },
        repository: { registryUrl: 'http://registry.example/xds/registry' },
      }),
    );
    expect(hub.find((m) => m.startsWith('endpoint /xca/responding'))).to.contain('hub mode').and.contain('1 configured community');
    expect(hub.find((m) => m.startsWith('endpoint /xds/repository'))).to.contain('registering with the registry at http://registry.example/xds/registry');
  });

  it('say whether TLS and the trust model are on', () => {
    const off = messages(lines({}));
    expect(off).to.include('TLS: off (plain HTTP)');
    expect(off.find((m) => m.startsWith('trust model:'))).to.match(/^trust model: off/);
  });
});
