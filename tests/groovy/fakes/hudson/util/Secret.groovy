package hudson.util

/** Mirrors hudson.util.Secret (Jenkins core): getPlainText(); toString() never shows the value in the real class's logs. */
final class Secret {
    private final String value

    private Secret(String value) {
        this.value = value
    }

    static Secret fromString(String data) {
        return new Secret(data)
    }

    String getPlainText() { value }
}
