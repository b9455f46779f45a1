package dev.safeload.cache;

import java.util.List;

/**
 * What {@link CacheDeduper#dedupe(List)} did.
 *
 * @param blobsExamined how many blobs (by path) were looked at
 * @param linked how many blob paths now share another copy's file
 * @param bytesSaved the bytes freed: copies whose last link was replaced
 * @param messages copies left alone and why (another filesystem, corrupt content, a race)
 */
public record DedupeReport(int blobsExamined, int linked, long bytesSaved, List<String> messages) {
    /** Copies the messages. */
    public DedupeReport {
        messages = List.copyOf(messages);
    }
}
