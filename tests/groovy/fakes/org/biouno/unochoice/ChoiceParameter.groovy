package org.biouno.unochoice

/**
 * Mirrors org.biouno.unochoice.ChoiceParameter (Active Choices / uno-choice 2.8.9,
 * src/main/java/org/biouno/unochoice/ChoiceParameter.java): what Active Choices binds as
 * `jenkinsParameter` (AbstractScriptableParameter.getHelperParameters: `this`); getName(), getRandomName().
 */
class ChoiceParameter {
    private final String name
    private final String randomName

    ChoiceParameter(String name, String randomName) {
        this.name = name
        this.randomName = randomName
    }

    String getName() { name }

    String getRandomName() { randomName }
}
