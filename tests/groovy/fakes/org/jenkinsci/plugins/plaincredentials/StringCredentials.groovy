package org.jenkinsci.plugins.plaincredentials

import hudson.util.Secret

/** Mirrors org.jenkinsci.plugins.plaincredentials.StringCredentials (plain-credentials plugin): a "Secret text" credential. */
interface StringCredentials {
    String getId()

    Secret getSecret()
}
