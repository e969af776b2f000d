// Registry of eviction policies by name (what a conversation's settings and
// the benchmark select). Adding a policy: one file in this folder whose body
// is its scoring rule and an entry here; its name is then accepted in kv
// settings (PolicyName, POLICY_NAMES) and it joins the conformance tests
// (test/node/kv-policies.test.ts) and the benchmark (scripts/bench-kv-policies.ts).
import type { EvictionPolicy } from "../policy";
import { epicachePolicy } from "./epicache";
import { fullPolicy } from "./full";
import { h2oPolicy } from "./h2o";
import { recentPolicy } from "./recent";
import { snapkvPolicy } from "./snapkv";

export const POLICIES = {
  full: fullPolicy,
  recent: recentPolicy,
  h2o: h2oPolicy,
  snapkv: snapkvPolicy,
  epicache: epicachePolicy,
} as const satisfies Readonly<Record<string, EvictionPolicy>>;

export type PolicyName = keyof typeof POLICIES;
export const POLICY_NAMES = Object.keys(POLICIES) as readonly PolicyName[];

export function isPolicyName(name: unknown): name is PolicyName {
  return typeof name === "string" && Object.hasOwn(POLICIES, name);
}

export function policyByName(name: string): EvictionPolicy {
  if (!isPolicyName(name)) throw new RangeError(`unknown kv policy "${name}" (expected one of ${POLICY_NAMES.join(", ")})`);
  return POLICIES[name];
}
