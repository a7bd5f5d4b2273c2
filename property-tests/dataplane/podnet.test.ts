// sl_podnet as the agent writes it (runtime/dataplane/podnet.ts): the image of
// local pods and other nodes' podCIDRs, keyed as an LPM trie wants (prefix
// length host order, address network order), and its sync into a pinned
// map, which writes only what differs and removes what is gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { podnetImage, syncPodnet } from '../../runtime/dataplane/podnet.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { dropPinRoot, kernelTest, scratchPinRoot } from '../bpf/env.ts';

const it = kernelTest({ netns: false });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const NO_PREALLOC = 1;

test('the image: /32 per local pod with its ifindex, each podCIDR of another node with 0; a local pod wins a clash', () => {
  const image = podnetImage([{ ip: '10.244.1.9', ifindex: 7 }, { ip: '10.244.2.0', ifindex: 9 }], ['10.244.2.0/24', '10.244.2.0/32']);
  const entries = [...image.values()].map((e) => [hex(e.key), hex(e.value)]).sort();
  assert.equal(entries, [
    ['18000000' + '0af40200', '00000000'], // 10.244.2.0/24 -> 0
    ['20000000' + '0af40109', '07000000'], // 10.244.1.9/32 -> 7
    ['20000000' + '0af40200', '09000000'], // the clash: the local pod's
  ].sort());
  assert.throws(() => podnetImage([], ['fd00::/64']), /sl_podnet: fd00::\/64 is not an IPv4 CIDR/);
});

it('sync: the first writes all, an unchanged one nothing, a change updates, adds and removes only what differs', () => {
  const root = scratchPinRoot();
  try {
    const fd = S.mapCreate(S.BPF_MAP_TYPE.LPM_TRIE, 8, 4, 64, NO_PREALLOC, 'sl_podnet');
    S.objPin(fd, `${root}/sl_podnet`);
    const first = podnetImage([{ ip: '10.244.1.9', ifindex: 7 }, { ip: '10.244.1.5', ifindex: 8 }], ['10.244.2.0/24']);
    assert.equal(syncPodnet(root, first), { entries: 3, local: 2, added: 3, removed: 0, changed: 0 });
    assert.equal(syncPodnet(root, first), { entries: 3, local: 2, added: 0, removed: 0, changed: 0 });
    const next = podnetImage([{ ip: '10.244.1.9', ifindex: 12 }], ['10.244.2.0/24', '10.244.3.0/24']);
    assert.equal(syncPodnet(root, next), { entries: 3, local: 1, added: 1, removed: 1, changed: 1 });
    const got = new Uint8Array(4);
    const at = (cidr: string) => [...podnetImage([], [cidr]).values()][0].key;
    assert.ok(S.mapLookup(fd, at('10.244.1.9/32'), got) && new DataView(got.buffer).getUint32(0, true) === 12, 'the pod\'s new veth');
    assert.not.ok(S.mapLookup(fd, at('10.244.1.5/32'), got), 'the gone pod');
    assert.ok(S.mapLookup(fd, at('10.244.3.0/24'), got), 'the new node');
    S.close(fd);
  } finally {
    dropPinRoot(root);
  }
});

it('sync without the map pinned says so', () => {
  const root = scratchPinRoot();
  try {
    assert.throws(() => syncPodnet(root, podnetImage([], [])), /open sl_podnet: no map pinned at .*sl_podnet; the datapath is not loaded/);
  } finally {
    dropPinRoot(root);
  }
});

test.run();
