// workerd provides node:crypto's createHash under the nodejs_compat flag
// (wrangler.toml); the Worker tsconfig has no Node types, so declare the one
// function the hash chain uses. Node code type-checks against @types/node.
declare module "node:crypto" {
  interface Hash {
    update(data: string): Hash;
    digest(encoding: "hex"): string;
  }
  export function createHash(algorithm: "sha256"): Hash;
}
