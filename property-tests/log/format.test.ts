// The log's framing and file names, at their edges: a line is 8 hex digits,
// a space and at least one byte of JSON under that CRC; a directory's log
// files are exactly events-N.log, not a copy or a file that merely holds the
// name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { frameJson, logFileName, unframe } from '../../runtime/log/format.ts';
import { logFiles } from '../../runtime/log/readLog.ts';

/** A line framed by hand: the CRC as 8 hex digits, a space, the body (no newline: unframe takes a line without it). */
const framed = (body: string) => Buffer.from(`${crc32(body).toString(16).padStart(8, '0')} ${body}`);

test('the shortest record, one byte of JSON, unframes; a frame with no JSON or a short one does not', () => {
  assert.equal(unframe(framed('1')), { json: '1' });
  assert.equal(unframe(Buffer.from(frameJson('1').trimEnd())), { json: '1' });
  assert.equal(unframe(framed('')), { error: 'not a framed record' }, 'the CRC of nothing is 00000000: still no record');
  assert.equal(unframe(Buffer.from('0000000 1')), { error: 'not a framed record' });
  assert.equal(unframe(Buffer.from('1234567')), { error: 'not a framed record' });
});

test('the CRC is 8 hex digits that match the body', () => {
  assert.equal(unframe(framed('{"a":1}')), { json: '{"a":1}' });
  const good = framed('{"a":1}').toString('latin1');
  assert.equal(unframe(Buffer.from(`${good.slice(0, 7)}g${good.slice(8)}`)), { error: 'checksum mismatch' });
  assert.equal(unframe(Buffer.from(good.replace('1}', '2}'))), { error: 'checksum mismatch' });
});

test('a directory stands for its events-N.log files in order, and nothing else in it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-names-'));
  try {
    for (const f of [logFileName(2), logFileName(0), `${logFileName(1)}.bak`, `old-${logFileName(3)}`, 'events-x.log', logFileName(10), 'lock']) {
      writeFileSync(join(dir, f), '');
    }
    assert.equal(logFiles([dir]), [logFileName(0), logFileName(2), logFileName(10)].map((f) => join(dir, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
