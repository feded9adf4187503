#!/usr/bin/env node
// Micro-benchmark of the IAM engine: µs per evaluate() for a five-statement policy set (identity + resource policy),
// as a GetSecretValue and as the KMS Decrypt Secrets Manager makes for it. A measurement, not a test.
// Usage: npm run build && node scripts/bench-iam.js [--iterations 200000]
"use strict";
const path = require("node:path");
const { parseArgs } = require("node:util");

const { values } = parseArgs({ options: { iterations: { type: "string", default: "200000" } } });
const dist = path.join(__dirname, "..", "dist", "iam");
let engine;
try {
  engine = { ...require(path.join(dist, "policy.js")), ...require(path.join(dist, "evaluate.js")) };
} catch {
  console.error("dist/iam is missing: run `npm run build` first.");
  process.exit(1);
}
const { compilePolicy, evaluate } = engine;

const ACCT = "111122223333";
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:prod/db-AbCdEf`;
const KEY = `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${ACCT}:role/AppRole`;
const principal = { arn: `arn:aws:sts::${ACCT}:assumed-role/AppRole/build-42`, account: ACCT, kind: "assumed-role", roleArn: ROLE, tags: { AccessProject: "alpha" } };

// Five statements: three in the role's identity policy, two in the secret's resource policy.
const identity = compilePolicy(
  {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadProd", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:Describe*"], Resource: `arn:aws:secretsmanager:*:${ACCT}:secret:prod/*-??????` },
      { Sid: "NoDelete", Effect: "Deny", Action: "secretsmanager:DeleteSecret", Resource: "*" },
      { Sid: "ViaSecretsManager", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: KEY, Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } } },
    ],
  },
  { kind: "identity" },
);
const secretPolicy = compilePolicy(
  {
    Version: "2012-10-17",
    Statement: [
      { Sid: "OnlyAppRole", Effect: "Deny", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { StringNotEquals: { "aws:PrincipalArn": ROLE } } },
      { Sid: "ProjectTag", Effect: "Allow", Principal: { AWS: ROLE }, Action: "secretsmanager:*", Resource: "*", Condition: { StringEquals: { "secretsmanager:ResourceTag/AccessProject": "${aws:PrincipalTag/AccessProject}" } } },
    ],
  },
  { kind: "resource", dialect: "secretsmanager" },
);
const keyPolicy = compilePolicy(
  {
    Version: "2012-10-17",
    Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: "kms:*", Resource: "*" }],
  },
  { kind: "resource", dialect: "kms" },
);

const getSecretValue = {
  principal,
  action: "secretsmanager:GetSecretValue",
  resource: SECRET,
  resourceAccount: ACCT,
  context: { "aws:SourceIp": "127.0.0.1", "aws:SecureTransport": false, "aws:RequestedRegion": "us-east-1", "secretsmanager:ResourceTag/AccessProject": "alpha", "secretsmanager:VersionStage": ["AWSCURRENT"] },
};
const decrypt = {
  principal,
  action: "kms:Decrypt",
  resource: KEY,
  resourceAccount: ACCT,
  context: { "aws:SourceIp": "127.0.0.1", "aws:ViaAWSService": true, "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "kms:CallerAccount": ACCT, "kms:EncryptionContext:SecretARN": SECRET },
};
const secretSet = { identityPolicies: [identity], resourcePolicy: secretPolicy, resourcePolicyKind: "secret" };
const keySet = { identityPolicies: [identity], resourcePolicy: keyPolicy, resourcePolicyKind: "key" };

for (const [set, request] of [[secretSet, getSecretValue], [keySet, decrypt]]) {
  const decision = evaluate(set, request);
  if (decision.decision !== "allow") throw new Error(`bench setup: ${request.action} was ${decision.decision}: ${decision.trace.join("; ")}`);
}

const iterations = Number(values.iterations);
function measure(label, run) {
  for (let i = 0; i < 20_000; i++) run(); // warm up: let V8 optimise
  const rounds = [];
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run();
    rounds.push(Number(process.hrtime.bigint() - start) / 1000 / iterations);
  }
  rounds.sort((a, b) => a - b);
  console.log(`${label.padEnd(58)} ${rounds[2].toFixed(3)} µs/op (median of 5 × ${iterations}; best ${rounds[0].toFixed(3)})`);
}

console.log(`node ${process.version}: five statements (3 identity + 2 resource), conditions and a policy variable`);
measure("GetSecretValue, trace on", () => evaluate(secretSet, getSecretValue));
measure("GetSecretValue, trace off", () => evaluate(secretSet, getSecretValue, { trace: false }));
measure("kms:Decrypt via Secrets Manager (key policy + IAM), trace on", () => evaluate(keySet, decrypt));
measure("both evaluations of one GetSecretValue, trace off", () => {
  evaluate(secretSet, getSecretValue, { trace: false });
  evaluate(keySet, decrypt, { trace: false });
});
