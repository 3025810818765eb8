package hudson.security

/** Mirrors hudson.security.ACL (Jenkins core): SYSTEM2, the Spring Security identity of the system. */
class ACL {
    static final Object SYSTEM2 = new Object() {
        String toString() { 'SYSTEM' }
    }
}
