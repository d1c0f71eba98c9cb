/** The audited server host: the Host header without its port, exactly as `replace(/:\d+$/, '')` gives it. */
import { expect } from 'chai';
import { withoutPort } from '../../connector/transactions/context.js';

describe('withoutPort', () => {
  it('drops trailing :digits and nothing else, like the regular expression', () => {
    const hosts = ['127.0.0.1:8080', 'node.example.no', 'node.example.no:443', '[::1]:8443', '[::1]', '::1', 'a:1:2', 'a::5', 'a:', ':80', '80', '', 'x:8a', 'x:٣'];
    for (const host of hosts) expect(withoutPort(host), host).to.equal(host.replace(/:\d+$/, ''));
  });
});
