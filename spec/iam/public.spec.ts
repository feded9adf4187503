// The engine's "grants access to anyone" judgement agrees with Secrets Manager's current one (resource-policy.ts).
import { broadAccessStatements } from "../../src/iam/public";
import { compilePolicy, PolicyError } from "../../src/iam/policy";
import { broadAccessStatements as currentBroadAccess, parsePolicy } from "../../src/services/secretsmanager/resource-policy";

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
    const engine = broadAccessStatements(compilePolicy(text, { kind: "resource", dialect: "secretsmanager" })).map((s) => s.index);
    const parsed = parsePolicy(text);
    const current = currentBroadAccess(parsed).map((s) => parsed.indexOf(s));
    expect(engine).toEqual(expected);
    expect(current).toEqual(expected);
  });

  it("refuses an Allow with NotPrincipal, which resource-policy.ts counts as broad access", () => {
    const text = policy(statement({ NotPrincipal: { AWS: "arn:aws:iam::111122223333:root" } }));
    expect(() => compilePolicy(text, { kind: "resource", dialect: "secretsmanager" })).toThrow(PolicyError);
    expect(currentBroadAccess(parsePolicy(text))).toHaveLength(1);
  });
});
