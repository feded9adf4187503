// The engine's "grants access to anyone" judgement, which BlockPublicPolicy and ValidateResourcePolicy use.
import { broadAccessStatements } from "../../src/iam/public";
import { compilePolicy } from "../../src/iam/policy";
import { compileResourcePolicy } from "../../src/services/secretsmanager/resource-policy";

const statement = (fields: object) => ({ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*", ...fields });
const policy = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

const cases: readonly [string, string, number[]][] = [
  ['Principal "*" without a condition', policy(statement({ Principal: "*" })), [0]],
  ['{"AWS": "*"} restricted by aws:PrincipalAccount', policy(statement({ Principal: { AWS: "*" }, Condition: { StringEquals: { "aws:PrincipalAccount": "111122223333" } } })), []],
  ['"*" inside a list of principals', policy(statement({ Principal: { AWS: ["arn:aws:iam::111122223333:root", "*"] } })), [0]],
  ["a negated operator restricts nothing", policy(statement({ Principal: "*", Condition: { StringNotEquals: { "aws:PrincipalAccount": "111122223333" } } })), [0]],
  ["…IfExists restricts nothing", policy(statement({ Principal: "*", Condition: { StringEqualsIfExists: { "aws:SourceIp": "10.0.0.0/8" } } })), [0]],
  ['a restricting key whose value is "*"', policy(statement({ Principal: "*", Condition: { StringLike: { "aws:PrincipalOrgID": "*" } } })), [0]],
  ["a condition on a key that does not say who", policy(statement({ Principal: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } })), [0]],
  ["a Deny for everyone", policy({ ...statement({ Principal: "*" }), Effect: "Deny" }), []],
  ["a named principal", policy(statement({ Principal: { AWS: "arn:aws:iam::111122223333:role/App" } })), []],
  ["a Deny with NotPrincipal", policy({ ...statement({ NotPrincipal: { AWS: "arn:aws:iam::111122223333:root" } }), Effect: "Deny" }), []],
  ["ForAnyValue on aws:PrincipalOrgPaths restricts", policy(statement({ Principal: "*", Condition: { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*" } } })), []],
  ["the key's case does not matter", policy(statement({ Principal: "*", Condition: { IpAddress: { "AWS:SOURCEIP": "192.0.2.0/24" } } })), []],
  ["only the broad statement of several", policy(statement({ Principal: { AWS: "111122223333" } }), statement({ Principal: "*" })), [1]],
];

describe("broadAccessStatements", () => {
  it.each(cases)("%s", (_name, text, expected) => {
    expect(broadAccessStatements(compilePolicy(text, { kind: "resource", dialect: "secretsmanager" })).map((s) => s.index)).toEqual(expected);
    // What Secrets Manager stores is compiled by the same engine.
    expect(broadAccessStatements(compileResourcePolicy(text)).map((s) => s.index)).toEqual(expected);
  });

  it("counts an Allow with NotPrincipal (everyone but the named) as broad access in a secret's policy, and refuses it elsewhere", () => {
    const text = policy(statement({ NotPrincipal: { AWS: "arn:aws:iam::111122223333:root" } }));
    expect(broadAccessStatements(compileResourcePolicy(text)).map((s) => s.index)).toEqual([0]);
    expect(() => compilePolicy(text, { kind: "resource", dialect: "kms" })).toThrow('NotPrincipal must be used with "Effect":"Deny".');
  });
});
