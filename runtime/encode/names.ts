// Names as the API server validates them (k8s.io/apimachinery's
// IsDNS1123Label, IsDNS1035Label, IsDNS1123Subdomain, IsValidLabelValue).
// A name it would refuse could otherwise join with its namespace into
// another object's identity: "a" + "/" + "b/c" is "a/b" + "/" + "c".

export type NameRule = 'DNS-1123 label' | 'DNS-1035 label' | 'DNS-1123 subdomain' | 'label value';

const RULES: { readonly [rule in NameRule]: { pattern: RegExp; max: number; says: string } } = {
  'DNS-1123 label': { pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, max: 63, says: 'a-z, 0-9 and "-", starting and ending with a letter or digit' },
  'DNS-1035 label': { pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/, max: 63, says: 'a-z, 0-9 and "-", starting with a letter and ending with a letter or digit' },
  'DNS-1123 subdomain': {
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, max: 253,
    says: 'DNS-1123 labels joined by "."',
  },
  'label value': { pattern: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, max: 63, says: 'A-Z, a-z, 0-9, "-", "_" and ".", starting and ending with a letter or digit' },
};

/** Why s is not a valid name under rule; undefined when it is. */
export function nameProblem(rule: NameRule, s: string): string | undefined {
  const r = RULES[rule];
  if (s.length > r.max) return `is ${s.length} characters long; a ${rule} has at most ${r.max}`;
  if (!r.pattern.test(s)) return `is not a ${rule} (${r.says})`;
  return undefined;
}
