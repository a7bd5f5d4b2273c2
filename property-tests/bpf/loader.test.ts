// The loader against the kernel: the verifier's refusal, pins left by another
// version, sizes that change, and the settings written into .rodata. Every
// failure must name the program or map, quote the reason, and say the way out,
// and the ways out must work.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_TIMEOUTS, encodeConfig, type DatapathConfig } from '../../runtime/bpf/config.ts';
import { LibbpfError } from '../../runtime/bpf/libbpf.ts';
import { IncompatiblePinError, loadDatapath, LoadError, VerifierError, type Datapath, type LoadOptions } from '../../runtime/bpf/loader.ts';
import { PinnedStore } from '../../runtime/bpf/maps.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { SL_CFG_DSR, SL_STATS_SLOTS, STATE_MAPS } from '../../runtime/abi/layouts.generated.ts';
import { dropPinRoot, fixtureObject, kernelTest, MAIN, scratchPinRoot } from './env.ts';

const it = kernelTest({ netns: false });
const CONFIG: DatapathConfig = { netnsCookie: 0n, nodeIp: new Uint8Array([10, 0, 0, 1]), hairpinIp: new Uint8Array([169, 254, 42, 1]), flags: 0, ...DEFAULT_TIMEOUTS };

function load(root: string, more: Partial<LoadOptions> = {}) {
  return loadDatapath({ object: fixtureObject(), pinRoot: root, config: CONFIG, ...more });
}

function withRoot(body: (root: string) => void): void {
  const root = scratchPinRoot();
  try {
    body(root);
  } finally {
    dropPinRoot(root);
  }
}

/** Pins a hash map as an older sluice might have left it: sl_svc with a 12-byte value. */
function pinOldSvc(root: string): void {
  const fd = S.mapCreate(S.BPF_MAP_TYPE.HASH, 8, 12, 1024, 0, 'sl_svc');
  S.objPin(fd, `${root}/sl_svc`);
  S.close(fd);
}

const mapInfoAt = (path: string) => {
  const fd = S.objGet(path)!;
  try {
    return S.mapInfo(fd);
  } finally {
    S.close(fd);
  }
};

const throwsLoad = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof LoadError && pattern.test(e.message) && !e.message.includes('\n'), String(pattern));

it('a verifier rejection names the program, quotes the verifier, and leaves no pins', () => {
  withRoot((root) => {
    throwsLoad(() => load(root, { object: fixtureObject('SL_MINI_BROKEN') }),
      /^load sl_to_pod: the verifier rejected it: R0 invalid mem access 'map_value_or_null' \(insn \d+: s->packets\+\+; @ mini\.bpf\.c:\d+\); .* does not pass this kernel's verifier/);
    assert.equal(readdirSync(root), [], 'libbpf unpins what a failed load pinned');
    try {
      load(root, { object: fixtureObject('SL_MINI_BROKEN') });
      assert.unreachable('the broken object loaded');
    } catch (e) {
      assert.instance(e, VerifierError);
      const v = e as VerifierError;
      assert.equal([v.program, v.reason], ['sl_to_pod', "R0 invalid mem access 'map_value_or_null'"]);
      assert.ok(Number.isInteger(v.insn), 'the instruction');
      assert.match(v.log, /-- BEGIN PROG LOAD LOG --/, 'the full log is kept for --verbose');
      assert.instance(v.cause, LibbpfError, "libbpf's own error is its cause");
    }
  });
});

it('an object whose maps differ from runtime/abi is refused before anything is pinned', () => {
  withRoot((root) => {
    throwsLoad(() => load(root, { object: fixtureObject('SL_MINI_V2') }),
      /^load: .*mini-SL_MINI_V2\.o defines sl_svc with key 8 B and value 20 B, this runtime expects 8 B and 16 B/);
    assert.equal(readdirSync(root), []);
  });
});

it('a pin of another version: a clear error; `sluice detach --pins` then load again works', () => {
  withRoot((root) => {
    pinOldSvc(root);
    throwsLoad(() => load(root), new RegExp(`^map sl_svc pinned at ${root}/sl_svc: value 12 B, this build 16 B; it was pinned by another ` +
      'version of sluice: run `sluice detach --pins` and apply again, or apply with --replace-maps$'));
    assert.throws(() => load(root), (e: unknown) => e instanceof IncompatiblePinError && e.map === 'sl_svc' && e.pinPath === `${root}/sl_svc` &&
      e.differences.join() === 'value 12 B, this build 16 B');
    const r = spawnSync(process.execPath, [MAIN, 'detach', '--pins', '--pin-root', root], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, `removed ${root}: sl_svc`);
    assert.not.ok(existsSync(root));
    load(root).close();
    assert.is(mapInfoAt(`${root}/sl_svc`).valueSize, 16);
  });
});

it('a pin of another version with --replace-maps: moved aside, dropped on commit, put back on rollback', () => {
  withRoot((root) => {
    pinOldSvc(root);
    const dp = load(root, { replaceMaps: true });
    assert.equal(dp.replaced, ['sl_svc']);
    assert.is(mapInfoAt(`${root}/sl_svc`).valueSize, 16);
    assert.is(mapInfoAt(`${root}/replaced/sl_svc`).valueSize, 12, 'the old map is kept until the new programs are attached');
    dp.rollback();
    dp.close();
    assert.is(mapInfoAt(`${root}/sl_svc`).valueSize, 12, 'rollback puts the old pin back');
    assert.not.ok(existsSync(`${root}/replaced`));
    const again = load(root, { replaceMaps: true });
    again.commit();
    again.close();
    assert.is(mapInfoAt(`${root}/sl_svc`).valueSize, 16);
    assert.not.ok(existsSync(`${root}/replaced`));
    PinnedStore.open(root).close();
  });
});

it('sizes: a flag sets max_entries, a pin keeps its size without one, and a different flag asks for --replace-maps', () => {
  withRoot((root) => {
    load(root, { sizes: { 'svc-max': 100, 'ct-max': 50 } }).close();
    assert.equal([mapInfoAt(`${root}/sl_svc`).maxEntries, mapInfoAt(`${root}/sl_svcname`).maxEntries, mapInfoAt(`${root}/sl_ct`).maxEntries], [100, 100, 50]);
    load(root).close();
    assert.is(mapInfoAt(`${root}/sl_svc`).maxEntries, 100, 'adopted as pinned');
    throwsLoad(() => load(root, { sizes: { 'ct-max': 60 } }), new RegExp(`^map sl_ct pinned at ${root}/sl_ct: max_entries 50, --ct-max asks 60; ` +
      'a map cannot be resized in place: apply with --replace-maps \\(it is rebuilt, and tracked connections are lost\\) or without --ct-max$'));
    const dp = load(root, { sizes: { 'ct-max': 60 }, replaceMaps: true });
    assert.equal(dp.replaced, ['sl_ct']);
    dp.commit();
    dp.close();
    assert.is(mapInfoAt(`${root}/sl_ct`).maxEntries, 60);
  });
});

it('an upgrade adopts an older build\'s pins: sl_ct kept with its flows, a shorter sl_stats replaced (counts only), sl_podnet made', () => {
  withRoot((root) => {
    const stats = S.mapCreate(S.BPF_MAP_TYPE.PERCPU_ARRAY, 4, 16, SL_STATS_SLOTS - 4, 0, 'sl_stats');
    S.objPin(stats, `${root}/sl_stats`);
    S.close(stats);
    const ct = STATE_MAPS.find((m) => m.name === 'sl_ct')!;
    const ctFd = S.mapCreate(S.BPF_MAP_TYPE.LRU_HASH, ct.key.size, ct.value.size, 1024, 0, 'sl_ct');
    const flow = new Uint8Array(ct.key.size).fill(7), state = new Uint8Array(ct.value.size).fill(9);
    S.mapUpdate(ctFd, flow, state);
    S.objPin(ctFd, `${root}/sl_ct`);
    S.close(ctFd);
    const dp = load(root);
    assert.equal(dp.replaced, ['sl_stats'], 'sl_stats, and nothing else, replaced without --replace-maps');
    dp.commit();
    dp.close();
    assert.is(mapInfoAt(`${root}/sl_stats`).maxEntries, SL_STATS_SLOTS);
    const got = new Uint8Array(ct.value.size), fd = S.objGet(`${root}/sl_ct`)!;
    try {
      assert.ok(S.mapLookup(fd, flow, got) && got.every((b) => b === 9), 'the tracked flow is still there');
    } finally {
      S.close(fd);
    }
    assert.is(mapInfoAt(`${root}/sl_podnet`).type, S.BPF_MAP_TYPE.LPM_TRIE, 'the new map is made');
  });
});

it('an older build\'s sl_sockrev (an 8-byte value, before the backend\'s sl_be key was kept) is replaced without asking', () => {
  withRoot((root) => {
    const fd = S.mapCreate(S.BPF_MAP_TYPE.LRU_HASH, 16, 8, 256, 0, 'sl_sockrev');
    S.objPin(fd, `${root}/sl_sockrev`);
    S.close(fd);
    const dp = load(root);
    assert.equal(dp.replaced, ['sl_sockrev']);
    dp.commit();
    dp.close();
    assert.is(mapInfoAt(`${root}/sl_sockrev`).valueSize, STATE_MAPS.find((m) => m.name === 'sl_sockrev')!.value.size);
  });
});

it('a pinned sl_stats of another layout is another version: no silent replace', () => {
  withRoot((root) => {
    const fd = S.mapCreate(S.BPF_MAP_TYPE.PERCPU_ARRAY, 4, 8, SL_STATS_SLOTS, 0, 'sl_stats');
    S.objPin(fd, `${root}/sl_stats`);
    S.close(fd);
    throwsLoad(() => load(root), new RegExp(`^map sl_stats pinned at ${root}/sl_stats: value 8 B, this build 16 B; ` +
      'it was pinned by another version of sluice'));
  });
});

it('struct sl_config lands in the programs\' .rodata', () => {
  withRoot((root) => {
    const config = { ...CONFIG, flags: SL_CFG_DSR, hairpinIp: new Uint8Array([169, 254, 42, 9]) };
    const dp = load(root, { config });
    try {
      const info = S.progInfo(dp.programs.get('sl_from_pod')!);
      const rodata = info.mapIds.map((id) => S.mapFdById(id)!).find((fd) => {
        if (S.mapInfo(fd).name.endsWith('.rodata')) return true;
        S.close(fd);
        return false;
      })!;
      const value = new Uint8Array(S.mapInfo(rodata).valueSize);
      S.mapLookup(rodata, new Uint8Array(4), value);
      S.close(rodata);
      assert.equal([...value], [...encodeConfig(config)]);
    } finally {
      dp.close();
    }
  });
});

it('a load after a committed one with the same object, settings and maps takes the programs it pinned (no verifier); another setting or a replaced map loads afresh', () => {
  withRoot((root) => {
    const ids = (dp: Datapath) => [...dp.programs.values(), ...dp.iterators.values()].map((fd) => S.progInfo(fd).id);
    const progPins = () => readdirSync(root).filter((n) => n.startsWith('sl_prog_'));
    const first = load(root);
    const loaded = ids(first);
    first.close();
    assert.equal(progPins(), [], 'nothing pinned before commit');
    const second = load(root);
    assert.ok(ids(second).every((id) => !loaded.includes(id)), 'an uncommitted load is not taken: loaded afresh');
    second.commit();
    const committed = ids(second);
    second.close();
    assert.is(progPins().length, committed.length, 'one pin per program');
    const third = load(root);
    assert.equal(ids(third), committed, 'the pinned programs, not loaded again');
    third.commit();
    third.close();
    const config = { ...CONFIG, flags: SL_CFG_DSR };
    const dsr = load(root, { config });
    const other = ids(dsr);
    assert.ok(other.every((id) => !committed.includes(id)), 'another setting: loaded afresh');
    dsr.commit();
    dsr.close();
    assert.is(progPins().length, other.length, 'the other load\'s pins are gone');
    const resized = load(root, { config, sizes: { 'ct-max': 60 }, replaceMaps: true });
    assert.ok(ids(resized).every((id) => !other.includes(id)), 'a replaced map: loaded afresh (the pinned programs use the old one)');
    resized.commit();
    resized.close();
    const r = spawnSync(process.execPath, [MAIN, 'detach', '--pins', '--pin-root', root], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /sl_prog_[0-9a-f]{16}_sl_from_pod/);
    assert.not.ok(existsSync(root), 'detach --pins takes the programs\' pins too');
  });
});

it('a missing object says how to build it', () => {
  withRoot((root) => {
    throwsLoad(() => load(root, { object: '/nonexistent/sluice.o' }), /^load: \/nonexistent\/sluice\.o does not exist; build it with `npm run build:bpf`$/);
  });
});

test.run();
