// What a call answered, as one comparable value: its error's name and message, or "no error".

/** Resolves to the rejection's name and message (an SDK error's `name` is AWS's `__type`), or "no error" when the call succeeded. */
export const errorOf = async (promise: Promise<unknown>): Promise<{ name: string; message: string }> =>
  promise.then(
    () => ({ name: "no error", message: "" }),
    (error: Error) => ({ name: error.name, message: error.message }),
  );
