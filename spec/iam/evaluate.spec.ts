// The IAM engine's decisions, table-driven from AWS's documented policy examples (page cited per group and case).
import {
  ACCT,
  DEV_SECRET,
  KEY,
  OTHER,
  SECRET,
  alice,
  allowing,
  appSession,
  bob,
  carol,
  defaultKeyPolicy,
  denying,
  otherRoot,
  otherSession,
  root,
  run,
  type Case,
} from "./fixtures";

const KG = "KMS Developer Guide";
const IAM = "IAM User Guide";
const SG = "Secrets Manager User Guide";
const SM_VIA = "secretsmanager.us-east-1.amazonaws.com";
const APP_ROLE = `arn:aws:iam::${ACCT}:role/AppRole`;

function table(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const decision = run(c);
      expect(decision.decision).toBe(c.expect);
      if (c.policyType !== undefined) expect(decision.deciding?.policyType).toBe(c.policyType);
      if (c.sid !== undefined) expect(decision.deciding?.sid).toBe(c.sid);
    });
  });
}

// --- KMS ---------------------------------------------------------------------------------------------------------

table(`${KG}: key-policy-default (the default key policy delegates to IAM)`, [
  { name: "the account root may use the key", kind: "key", policy: defaultKeyPolicy(), principal: root, action: "kms:Decrypt", expect: "allow", sid: "Enable IAM User Permissions" },
  { name: "an IAM user whose identity policy allows kms:Decrypt", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:Decrypt", KEY)], principal: alice, action: "kms:Decrypt", expect: "allow", policyType: "identity-based" },
  { name: "an IAM user without an identity policy: no identity-based policy allows", kind: "key", policy: defaultKeyPolicy(), principal: alice, action: "kms:Decrypt", expect: "implicit-deny", policyType: "identity-based" },
  { name: "an identity policy for another key does not reach this one", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:Decrypt", `arn:aws:kms:us-east-1:${ACCT}:key/other`)], principal: alice, action: "kms:Decrypt", expect: "implicit-deny" },
  { name: "a role session whose role's policy allows kms:* on keys of the account", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:*", `arn:aws:kms:*:${ACCT}:key/*`)], principal: appSession, action: "kms:GenerateDataKey", expect: "allow" },
  { name: "an identity-policy Deny wins over the delegation", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:*"), denying("kms:ScheduleKeyDeletion")], principal: alice, action: "kms:ScheduleKeyDeletion", expect: "explicit-deny", policyType: "identity-based" },
  { name: "another account's user, allowed by its own IAM, is not named by the key policy", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:Decrypt", KEY)], principal: bob, action: "kms:Decrypt", expect: "implicit-deny", policyType: "resource-based" },
  {
    name: "a root ARN of another partition (arn:aws-cn) names no principal of the aws partition",
    kind: "key",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws-cn:iam::${ACCT}:root` }, Action: "kms:*", Resource: "*" }] },
    principal: root,
    action: "kms:PutKeyPolicy",
    expect: "implicit-deny",
    policyType: "resource-based",
  },
]);

const keyUsersPolicy = {
  Version: "2012-10-17",
  Id: "key-consolepolicy-3",
  Statement: [
    {
      Sid: "Allow access for Key Administrators",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCT}:user/carol` },
      Action: ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
      Resource: "*",
    },
    {
      Sid: "Allow use of the key",
      Effect: "Allow",
      Principal: { AWS: APP_ROLE },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      Resource: "*",
    },
    {
      Sid: "Allow attachment of persistent resources",
      Effect: "Allow",
      Principal: { AWS: APP_ROLE },
      Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      Resource: "*",
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
  ],
};

table(`${KG}: key-policy-default (administrators and users, no root delegation)`, [
  { name: "the key user role's session may Decrypt with no identity policy at all", kind: "key", policy: keyUsersPolicy, principal: appSession, action: "kms:Decrypt", expect: "allow", policyType: "resource-based", sid: "Allow use of the key" },
  { name: "kms:ReEncrypt* covers ReEncryptFrom", kind: "key", policy: keyUsersPolicy, principal: appSession, action: "kms:ReEncryptFrom", expect: "allow" },
  { name: "the key user may not ScheduleKeyDeletion", kind: "key", policy: keyUsersPolicy, principal: appSession, action: "kms:ScheduleKeyDeletion", expect: "implicit-deny", policyType: "resource-based" },
  { name: "the key administrator may PutKeyPolicy (kms:Put*)", kind: "key", policy: keyUsersPolicy, principal: carol, action: "kms:PutKeyPolicy", expect: "allow", sid: "Allow access for Key Administrators" },
  { name: "the key administrator may not Decrypt", kind: "key", policy: keyUsersPolicy, principal: carol, action: "kms:Decrypt", expect: "implicit-deny" },
  { name: "an IAM allow is useless without delegation: the key policy must allow", kind: "key", policy: keyUsersPolicy, identity: [allowing("kms:*")], principal: alice, action: "kms:Decrypt", expect: "implicit-deny", policyType: "resource-based" },
  { name: "the root is locked out when the key policy does not name it", kind: "key", policy: keyUsersPolicy, principal: root, action: "kms:PutKeyPolicy", expect: "implicit-deny", policyType: "resource-based" },
  { name: "another role's session is not the key user", kind: "key", policy: keyUsersPolicy, principal: otherSession, action: "kms:Decrypt", expect: "implicit-deny" },
  { name: "an IAM Deny works without delegation (KG key-policies)", kind: "key", policy: keyUsersPolicy, identity: [denying("kms:Decrypt", KEY)], principal: appSession, action: "kms:Decrypt", expect: "explicit-deny", policyType: "identity-based" },
  { name: "kms:GrantIsForAWSResource is false here: CreateGrant is not allowed by the conditional statement", kind: "key", policy: keyUsersPolicy, principal: appSession, action: "kms:CreateGrant", context: { "kms:GrantIsForAWSResource": false }, expect: "implicit-deny" },
  { name: "and true (an integrated service) allows it", kind: "key", policy: keyUsersPolicy, principal: appSession, action: "kms:CreateGrant", context: { "kms:GrantIsForAWSResource": true }, expect: "allow" },
]);

const crossAccountKeyPolicy = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: "kms:*", Resource: "*" },
    {
      Sid: "Allow an external account to use this KMS key",
      Effect: "Allow",
      Principal: { AWS: [`arn:aws:iam::${OTHER}:root`] },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      Resource: "*",
    },
  ],
};

table(`${KG}: key-policy-modifying-external-accounts (cross account)`, [
  { name: "the external account's user with an IAM allow for the key", kind: "key", policy: crossAccountKeyPolicy, identity: [allowing(["kms:Decrypt"], KEY)], principal: bob, action: "kms:Decrypt", resourceAccount: ACCT, expect: "allow" },
  { name: "the external user without an IAM allow: both sides are needed", kind: "key", policy: crossAccountKeyPolicy, principal: bob, action: "kms:Decrypt", expect: "implicit-deny", policyType: "identity-based" },
  { name: "the external account's root needs no IAM policy", kind: "key", policy: crossAccountKeyPolicy, principal: otherRoot, action: "kms:Encrypt", expect: "allow" },
  { name: "an action the key policy does not give the external account", kind: "key", policy: crossAccountKeyPolicy, identity: [allowing("kms:*")], principal: bob, action: "kms:ScheduleKeyDeletion", expect: "implicit-deny", policyType: "resource-based" },
  { name: "a grant is enough on its own for its external grantee", kind: "key", policy: defaultKeyPolicy(), principal: bob, action: "kms:Decrypt", grants: true, expect: "allow" },
  { name: "an explicit Deny beats a grant", kind: "key", policy: defaultKeyPolicy(), identity: [denying("kms:Decrypt")], principal: bob, action: "kms:Decrypt", grants: true, expect: "explicit-deny" },
  {
    name: "a key policy naming the external user directly still needs that user's IAM allow",
    kind: "key",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: bob.arn }, Action: "kms:Decrypt", Resource: "*" }] },
    principal: bob,
    action: "kms:Decrypt",
    expect: "implicit-deny",
    policyType: "identity-based",
  },
  {
    name: "… and with it, is allowed",
    kind: "key",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: bob.arn }, Action: "kms:Decrypt", Resource: "*" }] },
    identity: [allowing("kms:Decrypt", "arn:aws:kms:*:111122223333:key/*")],
    principal: bob,
    action: "kms:Decrypt",
    expect: "allow",
  },
  { name: "a bare account id means the account root", kind: "key", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: OTHER }, Action: "kms:*", Resource: "*" }] }, principal: otherRoot, action: "kms:DescribeKey", expect: "allow" },
]);

// The fixed key policy of aws/secretsmanager (SG security-encryption): "*" with kms:ViaService AND kms:CallerAccount.
const awsSecretsManagerKeyPolicy = {
  Version: "2012-10-17",
  Id: "auto-secretsmanager-2",
  Statement: [
    {
      Sid: "Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DescribeKey"],
      Resource: "*",
      Condition: { StringEquals: { "kms:CallerAccount": ACCT, "kms:ViaService": SM_VIA } },
    },
    {
      Sid: "Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "kms:GenerateDataKey*",
      Resource: "*",
      Condition: { StringEquals: { "kms:CallerAccount": ACCT }, StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
    },
    { Sid: "Allow direct access to key metadata to the account", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], Resource: "*" },
  ],
};

table(`${KG}: conditions-kms (kms:ViaService, kms:CallerAccount) and ${SG}: security-encryption`, [
  { name: "Decrypt through Secrets Manager by a principal of the account", kind: "key", policy: awsSecretsManagerKeyPolicy, principal: alice, action: "kms:Decrypt", context: { "kms:ViaService": SM_VIA, "kms:CallerAccount": ACCT, "aws:ViaAWSService": true }, expect: "allow" },
  { name: "GenerateDataKey through Secrets Manager in any Region (StringLike)", kind: "key", policy: awsSecretsManagerKeyPolicy, principal: alice, action: "kms:GenerateDataKey", context: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com", "kms:CallerAccount": ACCT }, expect: "allow" },
  { name: "a direct Decrypt (no kms:ViaService) is refused", kind: "key", policy: awsSecretsManagerKeyPolicy, principal: alice, action: "kms:Decrypt", context: { "kms:CallerAccount": ACCT }, expect: "implicit-deny", policyType: "resource-based" },
  { name: "another account through Secrets Manager: kms:CallerAccount differs (the default key is not usable cross-account)", kind: "key", policy: awsSecretsManagerKeyPolicy, identity: [allowing("kms:*")], principal: bob, action: "kms:Decrypt", context: { "kms:ViaService": SM_VIA, "kms:CallerAccount": OTHER }, expect: "implicit-deny" },
  { name: "DescribeKey directly, through the root delegation and an IAM allow", kind: "key", policy: awsSecretsManagerKeyPolicy, identity: [allowing("kms:DescribeKey")], principal: alice, action: "kms:DescribeKey", expect: "allow" },
  {
    name: "Deny unless via EC2 or RDS (StringNotEquals): a direct call has no kms:ViaService, so the Deny applies",
    kind: "key",
    policy: { ...defaultKeyPolicy(), Statement: [...(defaultKeyPolicy() as { Statement: object[] }).Statement, { Sid: "DenyDirect", Effect: "Deny", Principal: "*", Action: "kms:Decrypt", Resource: "*", Condition: { StringNotEquals: { "kms:ViaService": ["ec2.us-west-2.amazonaws.com", "rds.us-west-2.amazonaws.com"] } } }] },
    identity: [allowing("kms:Decrypt")],
    principal: alice,
    action: "kms:Decrypt",
    expect: "explicit-deny",
    policyType: "resource-based",
    sid: "DenyDirect",
  },
  {
    name: "… and a call via EC2 is not denied",
    kind: "key",
    policy: { ...defaultKeyPolicy(), Statement: [...(defaultKeyPolicy() as { Statement: object[] }).Statement, { Sid: "DenyDirect", Effect: "Deny", Principal: "*", Action: "kms:Decrypt", Resource: "*", Condition: { StringNotEquals: { "kms:ViaService": ["ec2.us-west-2.amazonaws.com", "rds.us-west-2.amazonaws.com"] } } }] },
    identity: [allowing("kms:Decrypt")],
    principal: alice,
    action: "kms:Decrypt",
    context: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
    expect: "allow",
  },
  {
    name: "kms:CallerAccount with Principal * lets the account use the key without IAM",
    kind: "key",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Encrypt", Resource: "*", Condition: { StringEquals: { "kms:CallerAccount": ACCT } } }] },
    principal: appSession,
    action: "kms:Encrypt",
    context: { "kms:CallerAccount": ACCT },
    expect: "allow",
  },
]);

const contextPolicy = (condition: object) => ({
  Version: "2012-10-17",
  Statement: [
    { Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: "kms:*", Resource: "*" },
    { Sid: "Context", Effect: "Allow", Principal: { AWS: APP_ROLE }, Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], Resource: "*", Condition: condition },
  ],
});

table(`${KG}: conditions-kms-encryption-context`, [
  { name: "kms:EncryptionContext:AppName equals", kind: "key", policy: contextPolicy({ StringEquals: { "kms:EncryptionContext:AppName": "ExampleApp" } }), principal: appSession, action: "kms:Decrypt", context: { "kms:EncryptionContext:AppName": "ExampleApp" }, expect: "allow" },
  { name: "the context key's name is case-insensitive", kind: "key", policy: contextPolicy({ StringEquals: { "kms:EncryptionContext:AppName": "ExampleApp" } }), principal: appSession, action: "kms:Decrypt", context: { "kms:EncryptionContext:appname": "ExampleApp" }, expect: "allow" },
  { name: "the value is case-sensitive under StringEquals", kind: "key", policy: contextPolicy({ StringEquals: { "kms:EncryptionContext:AppName": "ExampleApp" } }), principal: appSession, action: "kms:Decrypt", context: { "kms:EncryptionContext:AppName": "exampleapp" }, expect: "implicit-deny" },
  { name: "… and not under StringEqualsIgnoreCase", kind: "key", policy: contextPolicy({ StringEqualsIgnoreCase: { "kms:EncryptionContext:AppName": "ExampleApp" } }), principal: appSession, action: "kms:Decrypt", context: { "kms:EncryptionContext:AppName": "EXAMPLEAPP" }, expect: "allow" },
  { name: "ForAllValues:StringEquals kms:EncryptionContextKeys: only listed keys", kind: "key", policy: contextPolicy({ "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["AppName", "FilePath"] } }), principal: appSession, action: "kms:Encrypt", context: { "kms:EncryptionContextKeys": ["AppName"] }, expect: "allow" },
  { name: "… an unlisted key fails", kind: "key", policy: contextPolicy({ "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["AppName", "FilePath"] } }), principal: appSession, action: "kms:Encrypt", context: { "kms:EncryptionContextKeys": ["AppName", "Owner"] }, expect: "implicit-deny" },
  { name: "… and no encryption context at all passes (ForAllValues over an empty set is true)", kind: "key", policy: contextPolicy({ "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["AppName"] } }), principal: appSession, action: "kms:Encrypt", expect: "allow" },
  { name: "ForAnyValue over a missing key is false", kind: "key", policy: contextPolicy({ "ForAnyValue:StringEquals": { "kms:EncryptionContextKeys": "AppName" } }), principal: appSession, action: "kms:Encrypt", expect: "implicit-deny" },
  { name: "Null false requires an encryption context: absent", kind: "key", policy: contextPolicy({ Null: { "kms:EncryptionContextKeys": "false" } }), principal: appSession, action: "kms:Encrypt", expect: "implicit-deny" },
  { name: "Null false requires an encryption context: present", kind: "key", policy: contextPolicy({ Null: { "kms:EncryptionContextKeys": "false" } }), principal: appSession, action: "kms:Encrypt", context: { "kms:EncryptionContextKeys": ["x"] }, expect: "allow" },
  { name: "Secrets Manager's context kms:EncryptionContext:SecretARN", kind: "key", policy: contextPolicy({ StringEquals: { "kms:EncryptionContext:SecretARN": SECRET } }), principal: appSession, action: "kms:Decrypt", context: { "kms:EncryptionContext:SecretARN": SECRET, "kms:EncryptionContext:SecretVersionId": "v1" }, expect: "allow" },
  { name: "StringLike on the context value with a policy variable (${aws:username})", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:Decrypt", "*", { StringLike: { "kms:EncryptionContext:Owner": "${aws:username}" } })], principal: alice, action: "kms:Decrypt", context: { "kms:EncryptionContext:Owner": "alice" }, expect: "allow" },
]);

// --- Secrets Manager -------------------------------------------------------------------------------------------------

table(`${SG}: auth-and-access_iam-policies (identity-based policies)`, [
  { name: "GetSecretValue on secret:prod/db-?????? (the six-character suffix)", identity: [allowing("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:prod/db-??????`)], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "prod/db-?????? does not match prod/db-extra-AbCdEf", identity: [allowing("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:prod/db-??????`)], principal: alice, action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:prod/db-extra-AbCdEf`, expect: "implicit-deny", policyType: "identity-based" },
  { name: "secret:prod/* covers every prod secret", identity: [allowing("secretsmanager:*", `arn:aws:secretsmanager:*:${ACCT}:secret:prod/*`)], principal: alice, action: "secretsmanager:DescribeSecret", expect: "allow" },
  { name: "a Region wildcard at a segment's end spans only what it must", identity: [allowing("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:us-*:${ACCT}:secret:*`)], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "an inner wildcard stays within its segment (us*3 cannot span the Region and the account)", identity: [allowing("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:us*3:secret:*`)], principal: alice, action: "secretsmanager:GetSecretValue", expect: "implicit-deny" },
  { name: "ListSecrets needs Resource \"*\"", identity: [allowing("secretsmanager:ListSecrets")], principal: alice, action: "secretsmanager:ListSecrets", resource: null, expect: "allow" },
  { name: "ListSecrets is not covered by a secret ARN pattern", identity: [allowing("secretsmanager:ListSecrets", `arn:aws:secretsmanager:*:${ACCT}:secret:*`)], principal: alice, action: "secretsmanager:ListSecrets", resource: null, expect: "implicit-deny" },
  { name: "secretsmanager:Get* covers GetSecretValue", identity: [allowing("secretsmanager:Get*")], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "secretsmanager:Get* does not cover PutSecretValue", identity: [allowing("secretsmanager:Get*")], principal: alice, action: "secretsmanager:PutSecretValue", expect: "implicit-deny" },
  { name: "the service prefix and action name are case-insensitive", identity: [allowing("SecretsManager:getsecretVALUE")], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "`?` matches one character: secretsmanager:???SecretValue covers PutSecretValue", identity: [allowing("secretsmanager:???SecretValue")], principal: alice, action: "secretsmanager:PutSecretValue", expect: "allow" },
  { name: "`?` … but not DescribeSecret", identity: [allowing("secretsmanager:???SecretValue")], principal: alice, action: "secretsmanager:DescribeSecret", expect: "implicit-deny" },
  { name: "several policies: the second one allows", identity: [allowing("kms:Decrypt"), allowing("secretsmanager:GetSecretValue", SECRET)], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
]);

table(`${IAM}: reference_policies_elements_notaction and _notresource`, [
  { name: "Allow NotAction DeleteSecret: GetSecretValue is allowed", identity: [{ Version: "2012-10-17", Statement: { Effect: "Allow", NotAction: "secretsmanager:DeleteSecret", Resource: "*" } }], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "Allow NotAction DeleteSecret: DeleteSecret is not", identity: [{ Version: "2012-10-17", Statement: { Effect: "Allow", NotAction: "secretsmanager:DeleteSecret", Resource: "*" } }], principal: alice, action: "secretsmanager:DeleteSecret", expect: "implicit-deny" },
  {
    name: "Deny NotAction Describe*/List* with Allow *: GetSecretValue is explicitly denied",
    identity: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }, { Sid: "ReadMetadataOnly", Effect: "Deny", NotAction: ["secretsmanager:Describe*", "secretsmanager:List*"], Resource: "*" }] }],
    principal: alice,
    action: "secretsmanager:GetSecretValue",
    expect: "explicit-deny",
    sid: "ReadMetadataOnly",
  },
  {
    name: "… and DescribeSecret is allowed",
    identity: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }, { Effect: "Deny", NotAction: ["secretsmanager:Describe*", "secretsmanager:List*"], Resource: "*" }] }],
    principal: alice,
    action: "secretsmanager:DescribeSecret",
    expect: "allow",
  },
  { name: "Allow NotResource prod/*: a dev secret is allowed", identity: [{ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "secretsmanager:*", NotResource: `arn:aws:secretsmanager:*:${ACCT}:secret:prod/*` } }], principal: alice, action: "secretsmanager:GetSecretValue", resource: DEV_SECRET, expect: "allow" },
  { name: "Allow NotResource prod/*: a prod secret is not", identity: [{ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "secretsmanager:*", NotResource: `arn:aws:secretsmanager:*:${ACCT}:secret:prod/*` } }], principal: alice, action: "secretsmanager:GetSecretValue", expect: "implicit-deny" },
  { name: "Deny NotResource: everything but the dev secret is denied", identity: [allowing("secretsmanager:*"), { Version: "2012-10-17", Statement: { Effect: "Deny", Action: "secretsmanager:*", NotResource: DEV_SECRET } }], principal: alice, action: "secretsmanager:GetSecretValue", expect: "explicit-deny" },
]);

const crossAccountSecretPolicy = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: "secretsmanager:GetSecretValue", Resource: "*" }],
};

table(`${SG}: auth-and-access_resource-policies and auth-and-access_examples_cross`, [
  { name: "same account: the resource policy alone allows the role's session", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: APP_ROLE }, Action: "secretsmanager:GetSecretValue", Resource: "*" }] }, principal: appSession, action: "secretsmanager:GetSecretValue", expect: "allow", policyType: "resource-based" },
  { name: "same account: the resource policy naming the user allows her", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: alice.arn }, Action: "secretsmanager:*", Resource: "*" }] }, principal: alice, action: "secretsmanager:PutSecretValue", expect: "allow" },
  { name: "same account: naming the account root delegates to IAM (no identity policy: denied)", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: "secretsmanager:*", Resource: "*" }] }, principal: alice, action: "secretsmanager:GetSecretValue", expect: "implicit-deny", policyType: "identity-based" },
  { name: "cross account: the other account's user with its IAM allow", policy: crossAccountSecretPolicy, identity: [allowing("secretsmanager:GetSecretValue", SECRET)], principal: bob, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "cross account: without its IAM allow", policy: crossAccountSecretPolicy, principal: bob, action: "secretsmanager:GetSecretValue", expect: "implicit-deny", policyType: "identity-based" },
  { name: "cross account: an action the resource policy does not grant", policy: crossAccountSecretPolicy, identity: [allowing("secretsmanager:*")], principal: bob, action: "secretsmanager:PutSecretValue", expect: "implicit-deny", policyType: "resource-based" },
  { name: "cross account: no resource policy at all", kind: "secret", identity: [allowing("secretsmanager:*")], principal: bob, action: "secretsmanager:GetSecretValue", expect: "implicit-deny", policyType: "resource-based" },
  {
    name: "Deny everyone but AppRole (StringNotEquals aws:PrincipalArn): alice is denied despite her IAM allow",
    policy: { Version: "2012-10-17", Statement: [{ Sid: "OnlyAppRole", Effect: "Deny", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { StringNotEquals: { "aws:PrincipalArn": APP_ROLE } } }] },
    identity: [allowing("secretsmanager:*")],
    principal: alice,
    action: "secretsmanager:GetSecretValue",
    expect: "explicit-deny",
    policyType: "resource-based",
    sid: "OnlyAppRole",
  },
  {
    name: "… and AppRole's session is not (aws:PrincipalArn of a session is the role ARN)",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { StringNotEquals: { "aws:PrincipalArn": APP_ROLE } } }] },
    identity: [allowing("secretsmanager:*")],
    principal: appSession,
    action: "secretsmanager:GetSecretValue",
    expect: "allow",
  },
  {
    name: "ForAnyValue:StringEquals secretsmanager:VersionStage AWSCURRENT: reading AWSCURRENT",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: alice.arn }, Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { "ForAnyValue:StringEquals": { "secretsmanager:VersionStage": "AWSCURRENT" } } }] },
    principal: alice,
    action: "secretsmanager:GetSecretValue",
    context: { "secretsmanager:VersionStage": ["AWSCURRENT"] },
    expect: "allow",
  },
  {
    name: "… reading AWSPREVIOUS",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: alice.arn }, Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { "ForAnyValue:StringEquals": { "secretsmanager:VersionStage": "AWSCURRENT" } } }] },
    principal: alice,
    action: "secretsmanager:GetSecretValue",
    context: { "secretsmanager:VersionStage": ["AWSPREVIOUS"] },
    expect: "implicit-deny",
  },
  {
    name: "a Deny naming an account denies its users",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: { AWS: ACCT }, Action: "secretsmanager:DeleteSecret", Resource: "*" }] },
    identity: [allowing("secretsmanager:*")],
    principal: alice,
    action: "secretsmanager:DeleteSecret",
    expect: "explicit-deny",
  },
  { name: "the account root needs no policy in its own account", principal: root, action: "secretsmanager:DeleteSecret", expect: "allow" },
]);

const abac = (value: string, version = "2012-10-17") => ({
  Version: version,
  Statement: [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { StringEquals: { "secretsmanager:ResourceTag/AccessProject": value } } }],
});

table(`${SG}: auth-and-access-abac (ResourceTag matched to PrincipalTag) and ${IAM}: reference_policies_variables`, [
  { name: "the secret's AccessProject tag equals the user's", identity: [abac("${aws:PrincipalTag/AccessProject}")], principal: alice, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "alpha" }, expect: "allow" },
  { name: "the tags differ", identity: [abac("${aws:PrincipalTag/AccessProject}")], principal: alice, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "beta" }, expect: "implicit-deny" },
  { name: "a role session's tag", identity: [abac("${aws:PrincipalTag/AccessProject}")], principal: appSession, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "beta" }, expect: "allow" },
  { name: "a principal without the tag: the variable has no value, the condition fails", identity: [abac("${aws:PrincipalTag/AccessProject}")], principal: carol, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "" }, expect: "implicit-deny" },
  {
    // "If AWS cannot resolve a variable this might cause the entire statement to be invalid": the statement does not
    // apply, even under a negated operator (which would otherwise be true for a value that matches nothing).
    name: "an unresolvable variable voids the statement, even a Deny with StringNotEquals",
    identity: [allowing("secretsmanager:*"), denying("secretsmanager:GetSecretValue", "*", { StringNotEquals: { "secretsmanager:ResourceTag/AccessProject": "${aws:PrincipalTag/AccessProject}" } })],
    principal: carol,
    action: "secretsmanager:GetSecretValue",
    context: { "secretsmanager:ResourceTag/AccessProject": "alpha" },
    expect: "allow",
  },
  { name: "… while a resolvable one applies the Deny", identity: [allowing("secretsmanager:*"), denying("secretsmanager:GetSecretValue", "*", { StringNotEquals: { "secretsmanager:ResourceTag/AccessProject": "${aws:PrincipalTag/AccessProject}" } })], principal: appSession, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "alpha" }, expect: "explicit-deny" },
  { name: "NotResource with an unresolvable variable does not match everything", identity: [{ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "secretsmanager:*", NotResource: "arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*" } }], principal: appSession, action: "secretsmanager:GetSecretValue", expect: "implicit-deny" },
  { name: "a default value (${key, 'default'}) stands in for a missing tag", identity: [abac("${aws:PrincipalTag/AccessProject, 'public'}")], principal: carol, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "public" }, expect: "allow" },
  { name: "the tag key in aws:PrincipalTag/ is case-insensitive", identity: [abac("${aws:principaltag/accessproject}")], principal: alice, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "alpha" }, expect: "allow" },
  { name: "Version 2008-10-17: the variable is literal text, so alpha does not match", identity: [abac("${aws:PrincipalTag/AccessProject}", "2008-10-17")], principal: alice, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "alpha" }, expect: "implicit-deny" },
  { name: "Version 2008-10-17: … and the literal text itself does", identity: [abac("${aws:PrincipalTag/AccessProject}", "2008-10-17")], principal: alice, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "${aws:PrincipalTag/AccessProject}" }, expect: "allow" },
  { name: "no Version means 2008-10-17", identity: [{ Statement: { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: `arn:aws:secretsmanager:*:*:secret:home/\${aws:username}/*` } }], principal: alice, action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:home/alice/key-AbCdEf`, expect: "implicit-deny" },
  { name: "${aws:username} in Resource: the user's own home/ secrets", identity: [allowing("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*")], principal: alice, action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:home/alice/key-AbCdEf`, expect: "allow" },
  { name: "${aws:username} in Resource: not another user's", identity: [allowing("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*")], principal: alice, action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:home/carol/key-AbCdEf`, expect: "implicit-deny" },
  { name: "${aws:username} does not exist for a role session", identity: [allowing("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*")], principal: appSession, action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:home/build-42/key-AbCdEf`, expect: "implicit-deny" },
  { name: "a value substituted for a variable is literal: a `*` in a tag matches only `*`", identity: [abac("${aws:PrincipalTag/Department}")], principal: { ...alice, tags: { Department: "*" } }, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:ResourceTag/AccessProject": "anything" }, expect: "implicit-deny" },
  { name: "${*} is a literal asterisk under StringLike", identity: [allowing("secretsmanager:GetSecretValue", "*", { StringLike: { "secretsmanager:Name": "a${*}b" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:Name": "a*b" }, expect: "allow" },
  { name: "${*} … does not match axxb", identity: [allowing("secretsmanager:GetSecretValue", "*", { StringLike: { "secretsmanager:Name": "a${*}b" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "secretsmanager:Name": "axxb" }, expect: "implicit-deny" },
  { name: "${aws:PrincipalAccount} in a condition", identity: [allowing("secretsmanager:GetSecretValue", "*", { StringEquals: { "aws:ResourceAccount": "${aws:PrincipalAccount}" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:ResourceAccount": ACCT }, expect: "allow" },
  { name: "aws:TagKeys ForAllValues:StringEquals on CreateSecret: only allowed tag keys", identity: [allowing("secretsmanager:CreateSecret", "*", { "ForAllValues:StringEquals": { "aws:TagKeys": ["AccessProject", "Owner"] } })], principal: alice, action: "secretsmanager:CreateSecret", context: { "aws:TagKeys": ["Owner"] }, expect: "allow" },
  { name: "aws:TagKeys … an extra tag key", identity: [allowing("secretsmanager:CreateSecret", "*", { "ForAllValues:StringEquals": { "aws:TagKeys": ["AccessProject", "Owner"] } })], principal: alice, action: "secretsmanager:CreateSecret", context: { "aws:TagKeys": ["Owner", "Secret"] }, expect: "implicit-deny" },
  { name: "ForAnyValue:StringNotEquals: at least one value differs", identity: [allowing("secretsmanager:TagResource", "*", { "ForAnyValue:StringNotEquals": { "aws:TagKeys": ["Owner"] } })], principal: alice, action: "secretsmanager:TagResource", context: { "aws:TagKeys": ["Owner", "Cost"] }, expect: "allow" },
  { name: "ForAnyValue:StringNotEquals: none differs", identity: [allowing("secretsmanager:TagResource", "*", { "ForAnyValue:StringNotEquals": { "aws:TagKeys": ["Owner"] } })], principal: alice, action: "secretsmanager:TagResource", context: { "aws:TagKeys": ["Owner"] }, expect: "implicit-deny" },
]);

// --- IAM example policies: networks, transport, time, numbers, ARNs ---------------------------------------------------

const denyOutsideNetworks = {
  Version: "2012-10-17",
  Statement: {
    Sid: "DenyOutsideNetworks",
    Effect: "Deny",
    Action: "*",
    Resource: "*",
    Condition: { NotIpAddress: { "aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"] }, Bool: { "aws:ViaAWSService": "false" } },
  },
};

table(`${IAM}: reference_policies_examples_aws_deny-ip and condition-keys-sourceip (with aws:ViaAWSService)`, [
  { name: "a call from 192.0.2.10 is not denied", identity: [allowing("secretsmanager:*"), denyOutsideNetworks], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:SourceIp": "192.0.2.10", "aws:ViaAWSService": false }, expect: "allow" },
  { name: "a call from the loopback address is denied", identity: [allowing("secretsmanager:*"), denyOutsideNetworks], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:SourceIp": "127.0.0.1", "aws:ViaAWSService": false }, expect: "explicit-deny", sid: "DenyOutsideNetworks" },
  { name: "Secrets Manager's call to KMS on her behalf (aws:ViaAWSService true) is not denied", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:Decrypt"), denyOutsideNetworks], principal: alice, action: "kms:Decrypt", context: { "aws:SourceIp": "127.0.0.1", "aws:ViaAWSService": true, "kms:ViaService": SM_VIA }, expect: "allow" },
  { name: "NotIpAddress on a request with no aws:SourceIp is true (a negated operator on a missing key)", identity: [allowing("secretsmanager:*"), denyOutsideNetworks], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:ViaAWSService": false }, expect: "explicit-deny" },
  { name: "IpAddress with the IPv6 loopback ::1/128", identity: [allowing("secretsmanager:*", "*", { IpAddress: { "aws:SourceIp": "::1/128" } })], principal: alice, action: "secretsmanager:ListSecrets", resource: null, context: { "aws:SourceIp": "::1" }, expect: "allow" },
  { name: "IpAddress 2001:DB8::/32 contains 2001:db8:1::5", identity: [allowing("secretsmanager:*", "*", { IpAddress: { "aws:SourceIp": "2001:DB8::/32" } })], principal: alice, action: "secretsmanager:ListSecrets", resource: null, context: { "aws:SourceIp": "2001:db8:1::5" }, expect: "allow" },
  { name: "IpAddress 2001:DB8::/32 does not contain 2001:db9::1", identity: [allowing("secretsmanager:*", "*", { IpAddress: { "aws:SourceIp": "2001:DB8::/32" } })], principal: alice, action: "secretsmanager:ListSecrets", resource: null, context: { "aws:SourceIp": "2001:db9::1" }, expect: "implicit-deny" },
  { name: "an IPv4 range matches an IPv4-mapped IPv6 address (::ffff:127.0.0.1 in 127.0.0.0/8)", identity: [allowing("secretsmanager:*", "*", { IpAddress: { "aws:SourceIp": "127.0.0.0/8" } })], principal: alice, action: "secretsmanager:ListSecrets", resource: null, context: { "aws:SourceIp": "::ffff:127.0.0.1" }, expect: "allow" },
  { name: "a /31 boundary: 192.0.2.2 is outside 192.0.2.0/31", identity: [allowing("secretsmanager:*", "*", { IpAddress: { "aws:SourceIp": "192.0.2.0/31" } })], principal: alice, action: "secretsmanager:ListSecrets", resource: null, context: { "aws:SourceIp": "192.0.2.2" }, expect: "implicit-deny" },
]);

table(`${IAM}: reference_policies_elements_condition_operators (Bool, IfExists, Null) and example policies`, [
  { name: "Deny unless aws:SecureTransport: plain HTTP is denied", identity: [allowing("secretsmanager:*"), denying("secretsmanager:*", "*", { Bool: { "aws:SecureTransport": "false" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:SecureTransport": false }, expect: "explicit-deny" },
  { name: "Deny unless aws:SecureTransport: TLS passes", identity: [allowing("secretsmanager:*"), denying("secretsmanager:*", "*", { Bool: { "aws:SecureTransport": false } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:SecureTransport": true }, expect: "allow" },
  { name: "BoolIfExists aws:MultiFactorAuthPresent false in a Deny: an absent key is denied", identity: [allowing("secretsmanager:*"), denying("secretsmanager:DeleteSecret", "*", { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } })], principal: alice, action: "secretsmanager:DeleteSecret", expect: "explicit-deny" },
  { name: "BoolIfExists … with MFA present it is not", identity: [allowing("secretsmanager:*"), denying("secretsmanager:DeleteSecret", "*", { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "aws:MultiFactorAuthPresent": "TRUE" }, expect: "allow" },
  { name: "a plain Bool on an absent key is false", identity: [allowing("secretsmanager:*", "*", { Bool: { "aws:MultiFactorAuthPresent": "true" } })], principal: alice, action: "secretsmanager:DeleteSecret", expect: "implicit-deny" },
  { name: "StringEqualsIfExists on an absent key is true", identity: [allowing("secretsmanager:*", "*", { StringEqualsIfExists: { "aws:RequestedRegion": "us-east-1" } })], principal: alice, action: "secretsmanager:DeleteSecret", expect: "allow" },
  { name: "StringEqualsIfExists on another value is false", identity: [allowing("secretsmanager:*", "*", { StringEqualsIfExists: { "aws:RequestedRegion": "us-east-1" } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "aws:RequestedRegion": "eu-west-1" }, expect: "implicit-deny" },
  { name: "Null true: allowed only without temporary credentials (aws:TokenIssueTime absent)", identity: [allowing("secretsmanager:*", "*", { Null: { "aws:TokenIssueTime": "true" } })], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "Null true: a session carries aws:TokenIssueTime", identity: [allowing("secretsmanager:*", "*", { Null: { "aws:TokenIssueTime": "true" } })], principal: appSession, action: "secretsmanager:GetSecretValue", context: { "aws:TokenIssueTime": "2026-01-01T00:00:00Z" }, expect: "implicit-deny" },
  { name: "StringNotLike on a missing key is true", identity: [allowing("secretsmanager:*", "*", { StringNotLike: { "secretsmanager:Name": "prod/*" } })], principal: alice, action: "secretsmanager:CreateSecret", expect: "allow" },
  { name: "StringNotLike with two values is NOR: matching either fails", identity: [allowing("secretsmanager:*", "*", { StringNotLike: { "secretsmanager:Name": ["prod/*", "stage/*"] } })], principal: alice, action: "secretsmanager:CreateSecret", context: { "secretsmanager:Name": "stage/x" }, expect: "implicit-deny" },
  { name: "StringEquals with two values is OR", identity: [allowing("secretsmanager:*", "*", { StringEquals: { "aws:RequestedRegion": ["eu-west-1", "us-east-1"] } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:RequestedRegion": "us-east-1" }, expect: "allow" },
  { name: "two keys under one operator are ANDed", identity: [allowing("secretsmanager:*", "*", { StringEquals: { "aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/Department": "legal" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:RequestedRegion": "us-east-1" }, expect: "implicit-deny" },
  { name: "two operators are ANDed", identity: [allowing("secretsmanager:*", "*", { StringEquals: { "aws:RequestedRegion": "us-east-1" }, StringLike: { "aws:PrincipalTag/Department": "fin*" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:RequestedRegion": "us-east-1" }, expect: "allow" },
  { name: "condition key names are case-insensitive", identity: [allowing("secretsmanager:*", "*", { StringEquals: { "AWS:REQUESTEDREGION": "us-east-1" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:RequestedRegion": "us-east-1" }, expect: "allow" },
  { name: "aws:PrincipalType comes from the principal: AssumedRole for a session", identity: [allowing("secretsmanager:*", "*", { StringEquals: { "aws:PrincipalType": "AssumedRole" } })], principal: appSession, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "aws:PrincipalType: User for an IAM user", identity: [allowing("secretsmanager:*", "*", { StringEquals: { "aws:PrincipalType": "AssumedRole" } })], principal: alice, action: "secretsmanager:GetSecretValue", expect: "implicit-deny" },
  { name: "aws:PrincipalIsAWSService is false for every caller here", identity: [allowing("secretsmanager:*", "*", { Bool: { "aws:PrincipalIsAWSService": "false" } })], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "StringNotEqualsIgnoreCase", identity: [allowing("secretsmanager:*", "*", { StringNotEqualsIgnoreCase: { "aws:PrincipalTag/Department": "FINANCE" } })], principal: alice, action: "secretsmanager:GetSecretValue", expect: "implicit-deny" },
  { name: "BinaryEquals compares the decoded bytes", identity: [allowing("secretsmanager:*", "*", { BinaryEquals: { "custom:blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "custom:blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" }, expect: "allow" },
  { name: "BinaryEquals with other bytes", identity: [allowing("secretsmanager:*", "*", { BinaryEquals: { "custom:blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "custom:blob": "b3RoZXI=" }, expect: "implicit-deny" },
]);

const dateRange = { DateGreaterThan: { "aws:CurrentTime": "2020-04-01T00:00:00Z" }, DateLessThan: { "aws:CurrentTime": "2020-06-30T23:59:59Z" } };

table(`${IAM}: reference_policies_examples_aws-dates (Date operators) and Numeric operators`, [
  { name: "within the date range", identity: [allowing("secretsmanager:*", "*", dateRange)], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:CurrentTime": "2020-05-01T12:00:00Z" }, expect: "allow" },
  { name: "after the date range", identity: [allowing("secretsmanager:*", "*", dateRange)], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:CurrentTime": "2020-07-01T00:00:00Z" }, expect: "implicit-deny" },
  { name: "epoch seconds in the policy against aws:EpochTime", identity: [allowing("secretsmanager:*", "*", { DateLessThanEquals: { "aws:EpochTime": "1593561599" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:EpochTime": 1593561599 }, expect: "allow" },
  { name: "epoch seconds against an ISO time", identity: [allowing("secretsmanager:*", "*", { DateGreaterThanEquals: { "aws:CurrentTime": "1593561600" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:CurrentTime": "2020-07-01T00:00:00Z" }, expect: "allow" },
  { name: "DateEquals", identity: [allowing("secretsmanager:*", "*", { DateEquals: { "aws:CurrentTime": "2020-07-01T00:00:00Z" } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:CurrentTime": "2020-07-01T00:00:00.000Z" }, expect: "allow" },
  { name: "DateNotEquals on a missing key is true", identity: [allowing("secretsmanager:*", "*", { DateNotEquals: { "aws:TokenIssueTime": "2020-07-01T00:00:00Z" } })], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "NumericGreaterThanEquals secretsmanager:RecoveryWindowInDays 7: 30 days", identity: [allowing("secretsmanager:DeleteSecret", "*", { NumericGreaterThanEquals: { "secretsmanager:RecoveryWindowInDays": "7" } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "secretsmanager:RecoveryWindowInDays": 30 }, expect: "allow" },
  { name: "NumericGreaterThanEquals …: 3 days", identity: [allowing("secretsmanager:DeleteSecret", "*", { NumericGreaterThanEquals: { "secretsmanager:RecoveryWindowInDays": "7" } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "secretsmanager:RecoveryWindowInDays": 3 }, expect: "implicit-deny" },
  { name: "NumericEquals with the request's value as a string", identity: [allowing("secretsmanager:DeleteSecret", "*", { NumericEquals: { "secretsmanager:RecoveryWindowInDays": 7 } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "secretsmanager:RecoveryWindowInDays": "7" }, expect: "allow" },
  { name: "NumericLessThan is strict", identity: [allowing("secretsmanager:DeleteSecret", "*", { NumericLessThan: { "secretsmanager:RecoveryWindowInDays": "7" } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "secretsmanager:RecoveryWindowInDays": 7 }, expect: "implicit-deny" },
  { name: "NumericLessThanEquals is not", identity: [allowing("secretsmanager:DeleteSecret", "*", { NumericLessThanEquals: { "secretsmanager:RecoveryWindowInDays": "7" } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "secretsmanager:RecoveryWindowInDays": 7 }, expect: "allow" },
  { name: "NumericGreaterThan", identity: [allowing("secretsmanager:DeleteSecret", "*", { NumericGreaterThan: { "secretsmanager:RecoveryWindowInDays": "7" } })], principal: alice, action: "secretsmanager:DeleteSecret", context: { "secretsmanager:RecoveryWindowInDays": 8 }, expect: "allow" },
  { name: "NumericNotEquals on a missing key is true", identity: [allowing("secretsmanager:DeleteSecret", "*", { NumericNotEquals: { "secretsmanager:RecoveryWindowInDays": "7" } })], principal: alice, action: "secretsmanager:DeleteSecret", expect: "allow" },
]);

const rotationLambda = "arn:aws:lambda:*:111122223333:function:rotate-*";

table(`${IAM}: ARN condition operators, with ${SG}'s secretsmanager:RotationLambdaARN`, [
  { name: "ArnLike RotationLambdaARN: the account's rotate-* functions", identity: [allowing("secretsmanager:RotateSecret", "*", { ArnLike: { "secretsmanager:RotationLambdaARN": rotationLambda } })], principal: alice, action: "secretsmanager:RotateSecret", context: { "secretsmanager:RotationLambdaARN": "arn:aws:lambda:us-east-1:111122223333:function:rotate-db" }, expect: "allow" },
  { name: "ArnLike: another account's function", identity: [allowing("secretsmanager:RotateSecret", "*", { ArnLike: { "secretsmanager:RotationLambdaARN": rotationLambda } })], principal: alice, action: "secretsmanager:RotateSecret", context: { "secretsmanager:RotationLambdaARN": "arn:aws:lambda:us-east-1:444455556666:function:rotate-db" }, expect: "implicit-deny" },
  { name: "ArnLike checks each of the six components: a wildcard in the account does not swallow the resource type", identity: [allowing("secretsmanager:RotateSecret", "*", { ArnLike: { "secretsmanager:RotationLambdaARN": "arn:aws:lambda:us-east-1:1111*:function:x" } })], principal: alice, action: "secretsmanager:RotateSecret", context: { "secretsmanager:RotationLambdaARN": "arn:aws:lambda:us-east-1:111122223333:extra:function:x" }, expect: "implicit-deny" },
  { name: "ArnEquals aws:PrincipalArn with the role ARN matches its session", identity: [allowing("secretsmanager:*", "*", { ArnEquals: { "aws:PrincipalArn": APP_ROLE } })], principal: appSession, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "ArnNotEquals on a missing key is true", identity: [allowing("secretsmanager:*", "*", { ArnNotEquals: { "aws:SourceArn": rotationLambda } })], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "ArnNotLike with a matching ARN is false", identity: [allowing("secretsmanager:*", "*", { ArnNotLike: { "aws:SourceArn": rotationLambda } })], principal: alice, action: "secretsmanager:GetSecretValue", context: { "aws:SourceArn": "arn:aws:lambda:eu-west-1:111122223333:function:rotate-x" }, expect: "implicit-deny" },
]);

const notPrincipalDeny = (listed: string[]) => ({
  Version: "2012-10-17",
  Statement: [{ Sid: "DenyAllButListed", Effect: "Deny", NotPrincipal: { AWS: listed }, Action: "secretsmanager:*", Resource: "*" }],
});

table(`${IAM}: reference_policies_elements_notprincipal`, [
  { name: "the listed user (with its account) is not denied", policy: notPrincipalDeny([alice.arn, `arn:aws:iam::${ACCT}:root`]), identity: [allowing("secretsmanager:*")], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "another user of the account is denied", policy: notPrincipalDeny([alice.arn, `arn:aws:iam::${ACCT}:root`]), identity: [allowing("secretsmanager:*")], principal: carol, action: "secretsmanager:GetSecretValue", expect: "explicit-deny", policyType: "resource-based", sid: "DenyAllButListed" },
  { name: "the account root, listed, is not denied", policy: notPrincipalDeny([alice.arn, `arn:aws:iam::${ACCT}:root`]), principal: root, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "the user listed without its account is still denied (the account must be listed too)", policy: notPrincipalDeny([alice.arn]), identity: [allowing("secretsmanager:*")], principal: alice, action: "secretsmanager:GetSecretValue", expect: "explicit-deny" },
  { name: "a role session is left out when its role and the account are listed", policy: notPrincipalDeny([APP_ROLE, `arn:aws:iam::${ACCT}:root`]), identity: [allowing("secretsmanager:*")], principal: appSession, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "a role session is left out when the session itself and the account are listed", policy: notPrincipalDeny([appSession.arn, `arn:aws:iam::${ACCT}:root`]), identity: [allowing("secretsmanager:*")], principal: appSession, action: "secretsmanager:GetSecretValue", expect: "allow" },
  { name: "a role session with its role listed but not the account is denied", policy: notPrincipalDeny([APP_ROLE, appSession.arn]), identity: [allowing("secretsmanager:*")], principal: appSession, action: "secretsmanager:GetSecretValue", expect: "explicit-deny" },
  { name: "another role's session is denied", policy: notPrincipalDeny([APP_ROLE, `arn:aws:iam::${ACCT}:root`]), identity: [allowing("secretsmanager:*")], principal: otherSession, action: "secretsmanager:GetSecretValue", expect: "explicit-deny" },
  { name: "a cross-account caller is denied unless listed", policy: notPrincipalDeny([alice.arn, `arn:aws:iam::${ACCT}:root`]), identity: [allowing("secretsmanager:*")], principal: bob, action: "secretsmanager:GetSecretValue", expect: "explicit-deny" },
]);

table(`${IAM}: reference_policies_evaluation-logic (deny wins; policy types)`, [
  { name: "an Allow and a Deny in the same policy: Deny wins", identity: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }, { Sid: "NoDelete", Effect: "Deny", Action: "secretsmanager:DeleteSecret", Resource: SECRET }] }], principal: alice, action: "secretsmanager:DeleteSecret", expect: "explicit-deny", policyType: "identity-based", sid: "NoDelete" },
  { name: "a resource-policy Allow does not beat an identity-policy Deny", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: alice.arn }, Action: "secretsmanager:*", Resource: "*" }] }, identity: [denying("secretsmanager:GetSecretValue")], principal: alice, action: "secretsmanager:GetSecretValue", expect: "explicit-deny", policyType: "identity-based" },
  { name: "no policy at all: implicit deny", principal: alice, action: "secretsmanager:GetSecretValue", expect: "implicit-deny", policyType: "identity-based" },
  { name: "the Allow's Sid is reported", identity: [{ Version: "2012-10-17", Statement: [{ Sid: "ReadProd", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: SECRET }] }], principal: alice, action: "secretsmanager:GetSecretValue", expect: "allow", policyType: "identity-based", sid: "ReadProd" },
  { name: "a grant does not help a Secrets Manager request (only KMS has grants)… but the caller decides; grantsAllow is honoured", identity: [], principal: alice, action: "kms:Decrypt", kind: "key", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: carol.arn }, Action: "kms:*", Resource: "*" }] }, grants: true, expect: "allow" },
]);

describe("trace", () => {
  it("names each statement that applied, with its Sid and whether it matched by account", () => {
    const decision = run({ name: "", kind: "key", policy: defaultKeyPolicy(), identity: [allowing("kms:Decrypt")], principal: alice, action: "kms:Decrypt", expect: "allow" });
    expect(decision.trace).toEqual(["identity[0]#0 Allow", "resource#0 Allow (Sid Enable IAM User Permissions) via account"]);
  });
});
