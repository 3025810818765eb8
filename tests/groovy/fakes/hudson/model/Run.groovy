package hudson.model

/** Mirrors hudson.model.Run (Jenkins core, core/src/main/java/hudson/model/Run.java): number, display name, result, building, artifacts. */
class Run {
    private final int number
    private final String displayName
    private final Result result
    private final boolean building
    private final boolean hasArtifacts

    Run(int number, String displayName, Result result, boolean building, boolean hasArtifacts) {
        this.number = number
        this.displayName = displayName
        this.result = result
        this.building = building
        this.hasArtifacts = hasArtifacts
    }

    int getNumber() { number }

    /** Real: the custom display name, or "#N" when none was set. */
    String getDisplayName() { displayName != null ? displayName : '#' + number }

    Result getResult() { result }

    boolean isBuilding() { building }

    boolean getHasArtifacts() { hasArtifacts }
}
