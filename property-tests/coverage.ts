// How often a property's runs reach each class of input it claims to cover,
// counted inside the property (so a class may depend on what the program
// did, such as "a bucket was full"), printed like fc.statistics, and a
// failure when a class falls under its stated share: a generator that stops
// reaching a corner fails the test instead of passing quietly.
import * as assert from 'uvu/assert';

export class Coverage<C extends string> {
  private readonly hits = new Map<C, number>();
  private runs = 0;
  private readonly title: string;
  private readonly shares: { readonly [K in C]: number };

  /** shares: each class and the least fraction of runs that must reach it. */
  constructor(title: string, shares: { readonly [K in C]: number }) {
    this.title = title;
    this.shares = shares;
    for (const c of Object.keys(shares) as C[]) this.hits.set(c, 0);
  }

  /** Counts one run that reached the given classes (each at most once per run). */
  run(reached: Iterable<C>): void {
    this.runs++;
    for (const c of new Set(reached)) {
      if (!this.hits.has(c)) throw new Error(`${this.title}: ${c} is not a class this property states a share for`);
      this.hits.set(c, this.hits.get(c)! + 1);
    }
  }

  /** Prints each class's share and fails if one is under its floor. */
  check(): void {
    const rows = [...this.hits].map(([c, n]) => ({ c, share: this.runs ? n / this.runs : 0, floor: this.shares[c] }));
    const width = Math.max(...rows.map((r) => r.c.length));
    console.log(`\n# ${this.title}: ${this.runs} runs`);
    for (const r of rows) console.log(`#   ${r.c.padEnd(width)}  ${(100 * r.share).toFixed(1).padStart(5)}%  (at least ${100 * r.floor}%)`);
    const under = rows.filter((r) => r.share < r.floor);
    assert.ok(this.runs > 0, `${this.title}: the property never ran`);
    assert.equal(under.map((r) => r.c), [], `${this.title}: classes under their share: ` +
      under.map((r) => `${r.c} ${(100 * r.share).toFixed(1)}% < ${100 * r.floor}%`).join(', '));
  }
}
