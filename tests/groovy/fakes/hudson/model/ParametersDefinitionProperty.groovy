package hudson.model

/** Mirrors hudson.model.ParametersDefinitionProperty (Jenkins core): getParameterDefinition(String). */
class ParametersDefinitionProperty extends JobPropertyStandIn {
    private final List<ChoiceParameterDefinition> definitions

    ParametersDefinitionProperty(List<ChoiceParameterDefinition> definitions) {
        this.definitions = definitions
    }

    /** Real: the definition with that name, or null. */
    ChoiceParameterDefinition getParameterDefinition(String name) {
        return definitions.find { it.getName() == name }
    }
}
