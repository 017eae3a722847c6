// A "billion laughs" YAML document: nine levels, each an anchored list of nine aliases of the level
// before — 9^9 (387 million) copies of "lol" once expanded. The scenario loader must refuse it
// before expanding it.
export const BILLION_LAUGHS =
  [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefghi'.split('').map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  ].join('\n') + '\n';
