// Surviving mutants that no test can kill, because the mutated program
// behaves exactly as the original: each with the reason. Matched by file,
// a piece of the mutated line's text, the mutator and its replacement.
export interface Equivalent { file: string; line: string; mutator: string; replacement?: string; why: string }

export const EQUIVALENT: Equivalent[] = [];
