package hudson.model

/** Mirrors hudson.model.ChoiceParameterDefinition (Jenkins core): the default value is the first choice. */
class ChoiceParameterDefinition {
    private final String name
    private final List<String> choices

    ChoiceParameterDefinition(String name, List<String> choices) {
        this.name = name
        this.choices = choices
    }

    String getName() { name }

    /** Real: a StringParameterValue holding the first choice (null when there is none). */
    StringParameterValue getDefaultParameterValue() {
        return choices ? new StringParameterValue(name, choices[0]) : null
    }
}
