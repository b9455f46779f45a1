package dev.safeload.cache.internal;

import dev.safeload.cache.HubError;
import dev.safeload.cache.HubException;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.Locale;

/**
 * Turns an HTTP error answer into a typed {@link HubException}, driven by {@code X-Error-Code} as
 * huggingface_hub's {@code hf_raise_for_status} is (docs/hub.md §2.8), with a message that says
 * what to do.
 */
public final class HubErrors {
    private HubErrors() {}

    /** Whether the status is worth a retry or another endpoint: 408, 429 and 5xx. */
    public static boolean retryable(int status) {
        return status == 408 || status == 429 || status >= 500;
    }

    /**
     * The exception for an error answer ({@code status >= 400}); {@code what} names the request's
     * subject.
     */
    public static HubException forResponse(int status, HttpHeaders headers, URI url, String what) {
        String code = headers.firstValue("X-Error-Code").orElse("");
        String serverMessage =
                headers.firstValue("X-Error-Message").map(m -> " Server says: " + m).orElse("");
        String at = " (HTTP " + status + " from " + url + ")." + serverMessage;
        return switch (code) {
            case "RevisionNotFound" ->
                    new HubException(
                            HubError.RevisionNotFound,
                            "revision not found: "
                                    + what
                                    + at
                                    + " Check the branch, tag or commit name.");
            case "EntryNotFound" ->
                    new HubException(
                            HubError.EntryNotFound,
                            "file not found: "
                                    + what
                                    + at
                                    + " Check the file name and the revision.");
            case "GatedRepo" ->
                    new HubException(
                            HubError.GatedRepo,
                            "gated repo: "
                                    + what
                                    + at
                                    + " Request access on the repo page, then pass a token"
                                    + " with access (HF_TOKEN, --token, or the token file).");
            case "RepoNotFound" -> repoNotFound(what, at);
            default -> byStatus(status, what, at);
        };
    }

    private static HubException byStatus(int status, String what, String at) {
        if (status == 401) {
            return repoNotFound(what, at);
        }
        if (status == 403) {
            return new HubException(
                    HubError.Unauthorized,
                    "forbidden: "
                            + what
                            + at
                            + " Make sure your token has the permissions this repo needs.");
        }
        if (status == 404) {
            return new HubException(
                    HubError.ServerError,
                    "not found without an X-Error-Code: "
                            + what
                            + at
                            + " The endpoint may not be a hub mirror, or its URL prefix is wrong.");
        }
        if (status == 408 || status == 429 || status >= 500) {
            return new HubException(
                    HubError.ServerError,
                    String.format(
                            Locale.ROOT,
                            "the server failed for %s%s Retries were exhausted; try again later or"
                                    + " another endpoint.",
                            what,
                            at));
        }
        return new HubException(HubError.ServerError, "request refused: " + what + at);
    }

    private static HubException repoNotFound(String what, String at) {
        return new HubException(
                HubError.RepoNotFound,
                "repository not found: "
                        + what
                        + at
                        + " Check the repo id and --repo-type; for a private or gated repo, pass a"
                        + " token (HF_TOKEN, --token, or the token file).");
    }
}
