package org.jenkinsci.plugins.plaincredentials.impl

import hudson.util.Secret
import org.jenkinsci.plugins.plaincredentials.StringCredentials

/** Mirrors StringCredentialsImpl (plain-credentials plugin): id and secret. */
class StringCredentialsImpl implements StringCredentials {
    private final String id
    private final Secret secret

    StringCredentialsImpl(String id, Secret secret) {
        this.id = id
        this.secret = secret
    }

    String getId() { id }

    Secret getSecret() { secret }
}
