// GetRandomPassword: a random password from the character classes the caller keeps.
import type { GetRandomPasswordRequest, GetRandomPasswordResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { randomPassword } from "./random-password";

/** "If you don't include this parameter, the default length is 32 characters." (API_GetRandomPassword) */
const DEFAULT_LENGTH = 32;

// Lengths past 4,096 never get here: the model's bound (pinned in validation-overlay.ts) answers ValidationException.
export const getRandomPassword: Operation<GetRandomPasswordRequest, GetRandomPasswordResponse> = async (input) => ({
  RandomPassword: randomPassword({
    length: input.PasswordLength ?? DEFAULT_LENGTH,
    excludeCharacters: input.ExcludeCharacters ?? "",
    excludeNumbers: input.ExcludeNumbers === true,
    excludePunctuation: input.ExcludePunctuation === true,
    excludeUppercase: input.ExcludeUppercase === true,
    excludeLowercase: input.ExcludeLowercase === true,
    includeSpace: input.IncludeSpace === true,
    // "If you don't include this switch, the password contains at least one of every character type."
    requireEachIncludedType: input.RequireEachIncludedType ?? true,
  }),
});
