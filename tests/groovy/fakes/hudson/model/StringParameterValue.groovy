package hudson.model

/** Mirrors hudson.model.StringParameterValue (Jenkins core): getName(), getValue(). */
class StringParameterValue {
    private final String name
    private final String value

    StringParameterValue(String name, String value) {
        this.name = name
        this.value = value
    }

    String getName() { name }

    String getValue() { value }
}
