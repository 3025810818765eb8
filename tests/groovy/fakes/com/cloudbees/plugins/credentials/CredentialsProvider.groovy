package com.cloudbees.plugins.credentials

/**
 * Mirrors CredentialsProvider (credentials plugin, src/main/java/com/cloudbees/plugins/credentials/
 * CredentialsProvider.java): lookupCredentialsInItem(Class<C> type, Item item, Authentication
 * authentication, List<DomainRequirement> domainRequirements), the credentials of that type
 * visible to the item. `install` is test set-up, not a plugin method.
 */
class CredentialsProvider {
    private static List stored = []

    static void install(List credentials) {
        stored = new ArrayList(credentials)
    }

    static <C> List<C> lookupCredentialsInItem(Class<C> type, Object item, Object authentication, List domainRequirements) {
        if (type == null || authentication == null) {
            throw new NullPointerException('type and authentication are required')
        }
        return stored.findAll { type.isInstance(it) }
    }
}
