// The IAM policy engine's public face: compile policies once, evaluate requests, word the denials.
export { compilePolicy, PolicyError, type CompiledPolicy, type CompileOptions, type PolicyDialect, type PolicyKind } from "./policy";
export { evaluate, type AuthzRequest, type ContextValue, type Decision, type EvaluateOptions, type PolicySet, type PolicyType, type Principal } from "./evaluate";
export { broadAccessStatements } from "./public";
export { accessDeniedMessage, decryptWithoutKeyMessage, type DeniedRequest } from "./messages";
