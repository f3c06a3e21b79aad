// Integer limits the filter can hold (its configuration uses i32).
export const INT32_MAX = 2_147_483_647;
