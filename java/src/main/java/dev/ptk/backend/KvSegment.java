package dev.ptk.backend;

/**
 * A run of tokens in the paged KV cache: the pages that hold them in order and how many tokens
 * they hold ({@code length <= pages.length * pageSize}; only the last page may be partial). A page
 * id means the same page in every layer.
 */
public record KvSegment(int[] pages, int length) {}
