// Policy documents the IAM grammar refuses, with AWS's MalformedPolicyDocument texts; and what a valid one compiles to.
import { parseCidr, parseIp } from "../../src/iam/conditions";
import { parseTemplate } from "../../src/iam/glob";
import { accessDeniedMessage, decryptWithoutKeyMessage } from "../../src/iam/messages";
import { compilePolicy, PolicyError, type CompileOptions } from "../../src/iam/policy";

const identity: CompileOptions = { kind: "identity" };
const keyPolicy: CompileOptions = { kind: "resource", dialect: "kms" };
const secretPolicy: CompileOptions = { kind: "resource", dialect: "secretsmanager" };
const iamResourcePolicy: CompileOptions = { kind: "resource" };

const statement = (fields: object) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "*", ...fields }] });
const withPrincipal = (principal: unknown) => statement({ Principal: principal });

describe("malformed documents", () => {
  // Texts quoted from real IAM/KMS/Secrets Manager answers in public threads where known (see policy.ts).
  it.each([
    ["not JSON", "{", identity, "Syntax errors in policy."],
    ["a JSON array", "[]", identity, "Syntax errors in policy."],
    ["an unknown top-level element", { Version: "2012-10-17", Statment: [] }, identity, "Syntax errors in policy."],
    ["an unknown Version", { Version: "2019-10-19", Statement: [] }, identity, 'The policy Version "2019-10-19" is not supported: use "2012-10-17" (or "2008-10-17").'],
    ["no Statement", { Version: "2012-10-17" }, identity, "Missing required field Statement"],
    ["an empty Statement list", { Version: "2012-10-17", Statement: [] }, identity, "Missing required field Statement"],
    ["an unknown statement element", statement({ Actions: "x" }), identity, "Syntax errors in policy."],
    ["an Effect other than Allow or Deny", statement({ Effect: "allow" }), identity, "Invalid effect: allow"],
    ["no Effect", { Version: "2012-10-17", Statement: { Action: "kms:Decrypt", Resource: "*" } }, identity, "Missing required field Effect"],
    ["no Action (IAM CreatePolicy, aws/aws-cdk#7615)", { Version: "2012-10-17", Statement: { Effect: "Allow", Resource: "*" } }, identity, "Policy statement must contain actions."],
    ["an empty Action list", statement({ Action: [] }), identity, "Policy statement must contain actions."],
    ["both Action and NotAction", statement({ NotAction: "kms:Encrypt" }), identity, "Syntax errors in policy."],
    ["an action without a service prefix", statement({ Action: "GetSecretValue" }), identity, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."],
    ["an action with two colons", statement({ Action: "kms:a:b" }), identity, "Actions/Condition can contain only one colon."],
    ["a wildcard in the service prefix", statement({ Action: "km*:Decrypt" }), identity, "Action vendors must not contain wildcards."],
    ["an identity statement without Resource (trussworks/terraform-aws-s3-anti-virus#22)", { Version: "2012-10-17", Statement: { Effect: "Allow", Action: "kms:Decrypt" } }, identity, "Policy statement must contain resources."],
    ["a Resource that is neither an ARN nor *", statement({ Resource: "" }), identity, 'Resource  must be in ARN format or "*".'],
    ["a Principal in an identity policy", withPrincipal("*"), identity, "Policy document should not specify a principal."],
    ["a NotPrincipal in an identity policy", statement({ NotPrincipal: { AWS: "*" } }), identity, "Policy document should not specify a principal."],
    ["a duplicate Sid in an identity policy", { Version: "2012-10-17", Statement: [{ Sid: "A", Effect: "Allow", Action: "kms:*", Resource: "*" }, { Sid: "A", Effect: "Deny", Action: "kms:*", Resource: "*" }] }, identity, "Statement IDs (SID) in a single policy must be unique."],
    ["a resource policy statement without a principal", statement({}), keyPolicy, "Missing required field Principal"],
    ["an invalid principal in a key policy (KMS's text)", withPrincipal({ AWS: "arn:aws:iam::111122223333:group/admins" }), keyPolicy, "Policy contains a statement with one or more invalid principals."],
    ["a partial wildcard principal in a key policy", withPrincipal({ AWS: "arn:aws:iam::*:root" }), keyPolicy, "Policy contains a statement with one or more invalid principals."],
    ["an invalid principal in a secret policy (Secrets Manager's text)", withPrincipal({ AWS: "alice" }), secretPolicy, "This resource policy contains an unsupported principal."],
    ["an invalid principal, IAM's wording", withPrincipal({ AWS: "alice" }), iamResourcePolicy, 'Invalid principal in policy: "AWS":"alice"'],
    ["NotPrincipal with Allow (IAM: not supported)", { Version: "2012-10-17", Statement: { Effect: "Allow", NotPrincipal: { AWS: "111122223333" }, Action: "kms:*", Resource: "*" } }, keyPolicy, 'NotPrincipal must be used with "Effect":"Deny".'],
    ["an unknown principal type", withPrincipal({ Users: "*" }), keyPolicy, "Syntax errors in policy."],
    ["a principal that is neither * nor an object", withPrincipal("111122223333"), keyPolicy, "Syntax errors in policy."],
    ["an unknown condition operator", statement({ Condition: { StringEqual: { "aws:username": "a" } } }), identity, "Invalid Condition type : StringEqual."],
    ["Null with IfExists", statement({ Condition: { NullIfExists: { "aws:username": "true" } } }), identity, "Invalid Condition type : NullIfExists."],
    ["a condition key without a vendor", statement({ Condition: { StringEquals: { username: "a" } } }), identity, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."],
    ["a condition whose keys are not an object", statement({ Condition: { StringEquals: "a" } }), identity, "Syntax errors in policy."],
    ["a condition value that is an object", statement({ Condition: { StringEquals: { "aws:username": { a: 1 } } } }), identity, "Syntax errors in policy."],
    ["a condition key with no values", statement({ Condition: { StringEquals: { "aws:username": [] } } }), identity, "Condition StringEquals must have at least one value."],
  ])("%s", (_name, document, options, message) => {
    expect(() => compilePolicy(document, options)).toThrow(new PolicyError(message));
  });
});

describe("valid documents", () => {
  it("take Statement as one object or a list, and keep Version, Id and each Sid", () => {
    const one = compilePolicy({ Version: "2012-10-17", Id: "p1", Statement: { Sid: "S", Effect: "Allow", Action: "kms:*", Resource: "*" } }, identity);
    expect(one).toMatchObject({ version: "2012-10-17", id: "p1", kind: "identity" });
    expect(one.statements.map((s) => [s.index, s.sid, s.effect])).toEqual([[0, "S", "Allow"]]);
    const two = compilePolicy(JSON.stringify({ Version: "2008-10-17", Statement: [{ Effect: "Deny", Action: ["kms:A", "kms:B"], Resource: ["*"] }, { Effect: "Allow", Action: "*", Resource: "*" }] }), identity);
    expect(two.statements.map((s) => s.effect)).toEqual(["Deny", "Allow"]);
  });

  it("default to Version 2008-10-17 when none is given", () => {
    expect(compilePolicy({ Statement: { Effect: "Allow", Action: "kms:*", Resource: "*" } }, identity).version).toBe("2008-10-17");
  });

  it("accept every principal form AWS documents, and service principals", () => {
    const document = withPrincipal({
      AWS: ["*", "111122223333", "arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/path/alice", "arn:aws:iam::111122223333:role/service-role/App", "arn:aws:sts::111122223333:assumed-role/App/s1"],
      Service: "secretsmanager.amazonaws.com",
    });
    expect(() => compilePolicy(document, keyPolicy)).not.toThrow();
  });

  it("accept a key policy statement without Resource, which then has no effect (KMS API Reference)", () => {
    const policy = compilePolicy({ Version: "2012-10-17", Statement: { Effect: "Allow", Principal: "*", Action: "kms:*" } }, keyPolicy);
    expect(policy.statements[0]!.matchesResource("arn:aws:kms:us-east-1:111122223333:key/k", undefined as never)).toBe(false);
  });

  it("accept a key policy statement without Action, which then has no effect, where IAM's own policies refuse it", () => {
    const document = { Version: "2012-10-17", Statement: { Effect: "Allow", Principal: "*", Resource: "*" } };
    const policy = compilePolicy(document, keyPolicy);
    expect(policy.statements[0]!.matchesAction("kms:decrypt")).toBe(false);
    expect(policy.statements[0]!.matchesAction("kms:putkeypolicy")).toBe(false);
    expect(() => compilePolicy(document, secretPolicy)).toThrow("Policy statement must contain actions.");
  });

  it("accept AWS's aws/secretsmanager key policy, whose two statements share a Sid", () => {
    const sid = "Allow access through AWS Secrets Manager";
    const document = { Version: "2012-10-17", Statement: [{ Sid: sid, Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt", Resource: "*" }, { Sid: sid, Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:GenerateDataKey*", Resource: "*" }] };
    expect(compilePolicy(document, keyPolicy).statements).toHaveLength(2);
  });

  it("accept condition values written as JSON booleans and numbers, and operators in any case", () => {
    expect(() => compilePolicy(statement({ Condition: { bool: { "aws:SecureTransport": true }, NumericLessThan: { "s3:max-keys": 10 }, "forallvalues:stringlike": { "aws:TagKeys": "a*" } } }), identity)).not.toThrow();
  });
});

describe("policy variables (IAM reference_policies_variables)", () => {
  it("parse ${key}, ${key, 'default'} with '' for a quote, and the ${*} ${?} ${$} escapes", () => {
    expect(parseTemplate("home/${aws:username}/${*}${?}${$}", true)).toEqual([
      { kind: "text", text: "home/" },
      { kind: "variable", key: "aws:username", written: "aws:username", fallback: undefined },
      { kind: "text", text: "/" },
      { kind: "literal", text: "*" },
      { kind: "literal", text: "?" },
      { kind: "literal", text: "$" },
    ]);
    expect(parseTemplate("${ aws:PrincipalTag/team , 'it''s' }", true)).toEqual([{ kind: "variable", key: "aws:principaltag/team", written: "aws:PrincipalTag/team", fallback: "it's" }]);
  });

  it("leave text that only looks like a variable, and everything under 2008-10-17, as text", () => {
    expect(parseTemplate("a${b", true)).toEqual([{ kind: "text", text: "a${b" }]);
    expect(parseTemplate("${a b}", true)).toEqual([{ kind: "text", text: "${a b}" }]);
    expect(parseTemplate("${aws:username}", false)).toEqual([{ kind: "text", text: "${aws:username}" }]);
  });
});

describe("IP addresses", () => {
  it("parse IPv4, IPv6 with :: and embedded IPv4, and refuse the rest", () => {
    expect(Array.from(parseIp("10.1.2.3")!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 1, 2, 3]);
    expect(Array.from(parseIp("2001:db8::ff00:42:8329")!)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0, 0x42, 0x83, 0x29]);
    expect(Array.from(parseIp("::ffff:192.0.2.1")!)).toEqual(Array.from(parseIp("192.0.2.1")!));
    for (const bad of ["256.0.0.1", "1.2.3", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "x"]) expect(parseIp(bad)).toBeUndefined();
  });

  it("parse CIDR blocks, an IPv4 prefix counting from the mapped address, and refuse bad prefixes", () => {
    expect(parseCidr("203.0.113.0/24")?.prefix).toBe(120);
    expect(parseCidr("::1")?.prefix).toBe(128);
    expect(parseCidr("10.0.0.1")?.prefix).toBe(128);
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/x", "10.0.0.0/8/1"]) expect(parseCidr(bad)).toBeUndefined();
  });
});

describe("AccessDeniedException messages (IAM troubleshoot_access-denied; facts part 2, a4)", () => {
  const principalArn = "arn:aws:sts::111122223333:assumed-role/AppRole/build-42";
  it.each([
    [
      "implicit, identity-based, with the SecretId as sent",
      { principalArn, action: "secretsmanager:GetSecretValue", resource: "settings", decision: "implicit-deny", policyType: "identity-based" },
      "User: arn:aws:sts::111122223333:assumed-role/AppRole/build-42 is not authorized to perform: secretsmanager:GetSecretValue on resource: settings because no identity-based policy allows the secretsmanager:GetSecretValue action",
    ],
    [
      "implicit, resource-based (a key policy that does not allow)",
      { principalArn: "arn:aws:iam::111122223333:user/alice", action: "kms:Decrypt", resource: "arn:aws:kms:us-east-1:111122223333:key/k", decision: "implicit-deny", policyType: "resource-based" },
      "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:111122223333:key/k because no resource-based policy allows the kms:Decrypt action",
    ],
    [
      "explicit, in an identity-based policy",
      { principalArn, action: "secretsmanager:DeleteSecret", resource: "cfn/atlas/profile/development", decision: "explicit-deny", policyType: "identity-based" },
      "User: arn:aws:sts::111122223333:assumed-role/AppRole/build-42 is not authorized to perform: secretsmanager:DeleteSecret on resource: cfn/atlas/profile/development with an explicit deny in an identity-based policy",
    ],
    [
      "explicit, in a resource-based policy",
      { principalArn, action: "secretsmanager:GetSecretValue", resource: "s", decision: "explicit-deny", policyType: "resource-based" },
      "User: arn:aws:sts::111122223333:assumed-role/AppRole/build-42 is not authorized to perform: secretsmanager:GetSecretValue on resource: s with an explicit deny in a resource-based policy",
    ],
    [
      "an action without a resource has no 'on resource:'",
      { principalArn, action: "secretsmanager:ListSecrets", resource: undefined, decision: "implicit-deny", policyType: "identity-based" },
      "User: arn:aws:sts::111122223333:assumed-role/AppRole/build-42 is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action",
    ],
  ] as const)("%s", (_name, request, message) => {
    expect(accessDeniedMessage(request)).toBe(message);
  });

  it("has KMS's own text for Decrypt without a key id", () => {
    expect(decryptWithoutKeyMessage("arn:aws:iam::111122223333:user/alice")).toBe(
      "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access",
    );
  });
});
