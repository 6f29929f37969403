// Fills `slug` from `title` on create when none was given (collections without a `slug` column
// simply don't store it); rejects titles that are empty after trimming.
module.exports = function registerHook({ exceptions }) {
  const { InvalidPayloadException } = exceptions;
  const slugify = (text) =>
    String(text)
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');

  return {
    'items.create.before': async function (input) {
      if (typeof input.title === 'string' && input.title.trim() === '') {
        throw new InvalidPayloadException('"title" must not be empty');
      }
      if (input.title && !input.slug) return { ...input, slug: slugify(input.title) };
      return input;
    },
  };
};
