#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs: the curated ones in fuzz/seeds/<target>/ and
# others taken from the test fixtures (tests/entra-real, tests/vectors). Existing corpus files
# are kept, so a corpus grown by earlier runs only gains seeds. Needs python3 for the JSON
# fixtures; without it only the curated seeds are copied.
#
#   bash fuzz/seed.sh
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz")"
targets=(jws_compact jwks validate validate_signed credentials dpop_proof)

for target in "${targets[@]}"; do
  mkdir -p "$fuzz/corpus/$target"
  cp "$fuzz/seeds/$target/"* "$fuzz/corpus/$target/"
done
# Every signed token is also a compact JWS to parse.
cp "$fuzz/seeds/validate/"* "$fuzz/corpus/jws_compact/"

if ! command -v python3 >/dev/null 2>&1; then
  echo "seed.sh: python3 not found; only the curated seeds in fuzz/seeds/ were copied" >&2
  exit 0
fi

python3 - "$root" "$fuzz/corpus" <<'EOF'
import base64, glob, json, os, sys

root, corpus = sys.argv[1], sys.argv[2]
count = {}

def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)
    count[target] = count.get(target, 0) + 1

def b64decode(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))

def compact(name, token):
    """A token: to parse, to validate, and carried in each place a request can carry it."""
    put("jws_compact", name, token)
    put("validate", name, token)
    parts = token.split(".")
    if len(parts) == 3:
        for i, part in enumerate(parts[:2]):
            try:
                put("jws_compact", f"{name}.{i}.json", b64decode(part))
            except ValueError:
                pass

def carried(name, token):
    put("credentials", f"{name}.authorization", f"/\nauthorization: Bearer {token}")
    put("credentials", f"{name}.cookie", f"/\ncookie: a=b; access_token={token}")
    put("credentials", f"{name}.header", f"/\nx-access-token: {token}")

def jwks(name, keys):
    put("jwks", name, json.dumps({"keys": keys}))

# Real Entra ID tokens and key sets, and the claims of the tokens for the signing target.
for path in sorted(glob.glob(f"{root}/tests/entra-real/tokens/*.jwt") +
                   glob.glob(f"{root}/tests/entra-real/negative/*.jwt")):
    name = "entra-" + os.path.basename(path).split("_")[0]
    token = open(path).read().strip()
    compact(name, token)
    carried(name, token)
    claims = json.loads(b64decode(token.split(".")[1]))
    put("validate_signed", f"{name}.json", json.dumps(claims))
    # The same claims from this target's own issuer, at its clock (2030-03-17).
    claims.update(iss="https://fuzz.example/rfc9068", aud="api://fuzz", iat=1899999000,
                  nbf=1899999000, exp=1900003600, jti="j", client_id="c", sub="s",
                  scope="fuzz.read")
    put("validate_signed", f"{name}.ours.json", json.dumps(claims))
for path in sorted(glob.glob(f"{root}/tests/entra-real/keys/*.json")):
    put("jwks", "entra-" + os.path.basename(path).split("_")[0], open(path).read())

# RFC 7520 (JOSE Cookbook): compact examples and their keys.
for path in sorted(glob.glob(f"{root}/tests/vectors/rfc7520/*.json")):
    name = "rfc7520-" + os.path.basename(path).split(".")[0]
    example = json.load(open(path))
    if example["output"].get("compact"):
        compact(name, example["output"]["compact"])
    key = example["input"].get("key")
    keys = key if isinstance(key, list) else [key]
    jwks(name, [k for k in keys if isinstance(k, dict)])

# Wycheproof: JWS test cases (every other one, to keep the corpus small; they differ mostly
# in the signature) and the key sets of the JWS and JWK tests.
vectors = f"{root}/tests/vectors/wycheproof"
suite = json.load(open(f"{vectors}/json_web_signature_test.json"))
for g, group in enumerate(suite["testGroups"]):
    for test in group["tests"][::2]:
        compact(f"wycheproof-jws-{test['tcId']}", test["jws"])
    for kind in ("public", "private"):
        if kind in group:
            jwks(f"wycheproof-jws-group{g}-{kind}", [group[kind]])
suite = json.load(open(f"{vectors}/json_web_key_test.json"))
for g, group in enumerate(suite["testGroups"]):
    for kind in ("public", "private"):
        if kind in group:
            put("jwks", f"wycheproof-jwk-group{g}-{kind}", json.dumps(group[kind]))

for target in sorted(count):
    print(f"seed.sh: {target}: {count[target]} generated seeds")
EOF

du -sh "$fuzz/corpus" | sed 's/^/seed.sh: corpus size /'
