/**
 * Orders strings by their UTF-8 bytes, the order the compiler sorts and
 * searches in. JS `<` compares UTF-16 units, which puts code points past
 * U+FFFF (surrogate pairs) before U+E000-U+FFFF; UTF-8 puts them after.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff, sy = y >= 0xd800 && y <= 0xdfff;
    return sx === sy ? x - y : sx ? 1 : -1;
  }
  return a.length - b.length;
}
