// Registry of eviction policies by name (what a conversation's settings and
// the benchmark select). Adding a policy: one file in this folder whose body
// is its scoring rule, an entry here, and it joins the conformance tests
// (test/node/kv-policies.test.ts) and the benchmark (scripts/bench-kv-policies.ts).
import type { EvictionPolicy, PolicyName } from "../policy";
import { epicachePolicy } from "./epicache";
import { fullPolicy } from "./full";
import { h2oPolicy } from "./h2o";
import { recentPolicy } from "./recent";
import { snapkvPolicy } from "./snapkv";

export const POLICIES: Readonly<Record<PolicyName, EvictionPolicy>> = {
  full: fullPolicy,
  recent: recentPolicy,
  h2o: h2oPolicy,
  snapkv: snapkvPolicy,
  epicache: epicachePolicy,
};

export function policyByName(name: string): EvictionPolicy {
  const p = (POLICIES as Record<string, EvictionPolicy>)[name];
  if (!p) throw new RangeError(`unknown kv policy "${name}" (expected one of ${Object.keys(POLICIES).join(", ")})`);
  return p;
}
