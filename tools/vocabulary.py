"""Label vocabularies: the one table of diagnostic codes -> abbreviation and name.

Three code systems appear in the datasets the readers understand:

- ``"SNOMED-CT"``: the SNOMED CT concept ids of the PhysioNet/CinC Challenge 2020/2021
  (``# Dx:`` header lines). Names and abbreviations follow the challenge's
  ``dx_mapping_scored.csv`` and ``dx_mapping_unscored.csv`` (typos fixed, casing unified).
- ``"CPSC2018"``: the nine classes of the China Physiological Signal Challenge 2018, keyed by
  the class number written in its ``REFERENCE.csv``.
- ``"CODE-15"``: the six abnormality columns of CODE-15% ``exams.csv``.

A later issue grows this module into the full statement vocabulary (SCP-ECG keys with SNOMED
mappings and synonyms); callers should only use :func:`label_name`,
:func:`label_abbreviation` and the named tables.

References
----------
Reyna MA et al. "Will two do? Varying dimensions in electrocardiography: the PhysioNet/Computing
in Cardiology Challenge 2021." Computing in Cardiology 2021;48.
Liu F et al. "An open access database for evaluating the algorithms of electrocardiogram rhythm
and morphology abnormality detection." J Med Imaging Health Inform 2018;8(7):1368-1373.
Ribeiro AH et al. "Automatic diagnosis of the 12-lead ECG using a deep neural network."
Nat Commun 2020;11:1760 (CODE-15% labels).
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    """One code's short and long form."""

    abbreviation: str
    name: str


#: SNOMED CT codes scored in the PhysioNet/CinC Challenge 2020/2021 (dx_mapping_scored.csv).
SNOMED_SCORED: dict[str, Term] = {
    "164889003": Term("AF", "atrial fibrillation"),
    "164890007": Term("AFL", "atrial flutter"),
    "6374002": Term("BBB", "bundle branch block"),
    "426627000": Term("Brady", "bradycardia"),
    "733534002": Term("CLBBB", "complete left bundle branch block"),
    "713427006": Term("CRBBB", "complete right bundle branch block"),
    "270492004": Term("IAVB", "first degree atrioventricular block"),
    "713426002": Term("IRBBB", "incomplete right bundle branch block"),
    "39732003": Term("LAD", "left axis deviation"),
    "445118002": Term("LAnFB", "left anterior fascicular block"),
    "164909002": Term("LBBB", "left bundle branch block"),
    "251146004": Term("LQRSV", "low QRS voltages"),
    "698252002": Term("NSIVCB", "nonspecific intraventricular conduction disorder"),
    "426783006": Term("NSR", "sinus rhythm"),
    "284470004": Term("PAC", "premature atrial contraction"),
    "10370003": Term("PR", "pacing rhythm"),
    "365413008": Term("PRWP", "poor R wave progression"),
    "427172004": Term("PVC", "premature ventricular contractions"),
    "164947007": Term("LPR", "prolonged PR interval"),
    "111975006": Term("LQT", "prolonged QT interval"),
    "164917005": Term("QAb", "Q wave abnormal"),
    "47665007": Term("RAD", "right axis deviation"),
    "59118001": Term("RBBB", "right bundle branch block"),
    "427393009": Term("SA", "sinus arrhythmia"),
    "426177001": Term("SB", "sinus bradycardia"),
    "427084000": Term("STach", "sinus tachycardia"),
    "63593006": Term("SVPB", "supraventricular premature beats"),
    "164934002": Term("TAb", "T wave abnormal"),
    "59931005": Term("TInv", "T wave inversion"),
    "17338001": Term("VPB", "ventricular premature beats"),
}

#: Codes the challenge scores as one diagnosis (its dx_mapping_scored.csv notes): each
#: maps to the code it is pooled with.
SNOMED_EQUIVALENT: dict[str, str] = {
    "713427006": "59118001",  # complete RBBB ~ RBBB
    "733534002": "164909002",  # complete LBBB ~ LBBB
    "63593006": "284470004",  # supraventricular premature beats ~ PAC
    "17338001": "427172004",  # ventricular premature beats ~ PVC
}

#: Further SNOMED CT codes found in the challenge data but not scored (dx_mapping_unscored.csv).
SNOMED_UNSCORED: dict[str, Term] = {
    "233892002": Term("AAR", "accelerated atrial escape rhythm"),
    "164951009": Term("abQRS", "abnormal QRS"),
    "251187003": Term("AED", "atrial escape beat"),
    "61277005": Term("AIVR", "accelerated idioventricular rhythm"),
    "426664006": Term("AJR", "accelerated junctional rhythm"),
    "251139008": Term("ALR", "suspect arm ECG leads reversed"),
    "57054005": Term("AMI", "acute myocardial infarction"),
    "413444003": Term("AMIs", "acute myocardial ischemia"),
    "426434006": Term("AnMIs", "anterior ischemia"),
    "54329005": Term("AnMI", "anterior myocardial infarction"),
    "251173003": Term("AB", "atrial bigeminy"),
    "195080001": Term("AFAFL", "atrial fibrillation and flutter"),
    "195126007": Term("AH", "atrial hypertrophy"),
    "251268003": Term("AP", "atrial pacing pattern"),
    "106068003": Term("ARH", "atrial rhythm"),
    "713422000": Term("ATach", "atrial tachycardia"),
    "233917008": Term("AVB", "atrioventricular block"),
    "50799005": Term("AVD", "atrioventricular dissociation"),
    "29320008": Term("AVJR", "atrioventricular junctional rhythm"),
    "251166008": Term("AVNRT", "atrioventricular node reentrant tachycardia"),
    "233897008": Term("AVRT", "atrioventricular reentrant tachycardia"),
    "251170000": Term("BPAC", "blocked premature atrial contraction"),
    "418818005": Term("BRU", "Brugada pattern"),
    "74615001": Term("BTS", "brady-tachy syndrome"),
    "426749004": Term("CAF", "chronic atrial fibrillation"),
    "251199005": Term("CCR", "counterclockwise rotation"),
    "61721007": Term("CVCL/CCVCL", "clockwise or counterclockwise vectorcardiographic loop"),
    "698247007": Term("CD", "cardiac dysrhythmia"),
    "27885002": Term("CHB", "complete heart block"),
    "204384007": Term("CIAHB", "congenital incomplete atrioventricular heart block"),
    "53741008": Term("CHD", "coronary heart disease"),
    "413844008": Term("CMI", "chronic myocardial ischemia"),
    "251198002": Term("CR", "clockwise rotation"),
    "82226007": Term("DIB", "diffuse intraventricular block"),
    "428417006": Term("ERe", "early repolarization"),
    "13640000": Term("FB", "fusion beats"),
    "164942001": Term("FQRS", "fragmented QRS wave"),
    "84114007": Term("HF", "heart failure"),
    "368009": Term("HVD", "heart valve disorder"),
    "251259000": Term("HTV", "high T voltage"),
    "251200008": Term("ICA", "indeterminate cardiac axis"),
    "195042002": Term("IIAVB", "second degree atrioventricular block"),
    "426183003": Term("IIAVBII", "Mobitz type II atrioventricular block"),
    "425419005": Term("IIs", "inferior ischemia"),
    "251120003": Term("ILBBB", "incomplete left bundle branch block"),
    "704997005": Term("ISTD", "inferior ST segment depression"),
    "49260003": Term("IR", "idioventricular rhythm"),
    "426995002": Term("JE", "junctional escape"),
    "251164006": Term("JPC", "junctional premature complex"),
    "426648003": Term("JTach", "junctional tachycardia"),
    "253352002": Term("LAA", "left atrial abnormality"),
    "67741000119109": Term("LAE", "left atrial enlargement"),
    "446813000": Term("LAH", "left atrial hypertrophy"),
    "425623009": Term("LIs", "lateral ischemia"),
    "445211001": Term("LPFB", "left posterior fascicular block"),
    "164873001": Term("LVH", "left ventricular hypertrophy"),
    "55827005": Term("LVHV", "left ventricular high voltage"),
    "370365005": Term("LVS", "left ventricular strain"),
    "164865005": Term("MI", "myocardial infarction"),
    "164861001": Term("MIs", "myocardial ischemia"),
    "54016002": Term("MoI", "Mobitz type I (Wenckebach) atrioventricular block"),
    "428750005": Term("NSSTTA", "nonspecific ST-T abnormality"),
    "164867002": Term("OldMI", "old myocardial infarction"),
    "282825002": Term("PAF", "paroxysmal atrial fibrillation"),
    "251205003": Term("PPW", "prolonged P wave"),
    "67198005": Term("PSVT", "paroxysmal supraventricular tachycardia"),
    "425856008": Term("PVT", "paroxysmal ventricular tachycardia"),
    "164912004": Term("PWC", "P wave change"),
    "253339007": Term("RAAb", "right atrial abnormality"),
    "164921003": Term("RAb", "R wave abnormal"),
    "446358003": Term("RAH", "right atrial hypertrophy"),
    "67751000119106": Term("RAHV", "right atrial high voltage"),
    "314208002": Term("RAF", "rapid atrial fibrillation"),
    "89792004": Term("RVH", "right ventricular hypertrophy"),
    "17366009": Term("SAAWR", "sinus atrium to atrial wandering rhythm"),
    "65778007": Term("SAB", "sinoatrial block"),
    "5609005": Term("SARR", "sinus arrest"),
    "60423000": Term("SND", "sinus node dysfunction"),
    "49578007": Term("SPRI", "shortened PR interval"),
    "77867006": Term("SQT", "decreased QT interval"),
    "55930002": Term("STC", "ST changes"),
    "429622005": Term("STD", "ST depression"),
    "164931005": Term("STE", "ST elevation"),
    "164930006": Term("STIAb", "ST interval abnormal"),
    "251168009": Term("SVB", "supraventricular bigeminy"),
    "426761007": Term("SVT", "supraventricular tachycardia"),
    "266257000": Term("TIA", "transient ischemic attack"),
    "251223006": Term("TPW", "tall P wave"),
    "164937009": Term("UAb", "U wave abnormal"),
    "11157007": Term("VBig", "ventricular bigeminy"),
    "164884008": Term("VEB", "ventricular ectopics"),
    "75532003": Term("VEsB", "ventricular escape beat"),
    "81898007": Term("VEsR", "ventricular escape rhythm"),
    "164896001": Term("VF", "ventricular fibrillation"),
    "111288001": Term("VFL", "ventricular flutter"),
    "266249003": Term("VH", "ventricular hypertrophy"),
    "195060002": Term("VPEx", "ventricular pre-excitation"),
    "251266004": Term("VPP", "ventricular pacing pattern"),
    "251182009": Term("VPVC", "paired ventricular premature complexes"),
    "164895002": Term("VTach", "ventricular tachycardia"),
    "251180001": Term("VTrig", "ventricular trigeminy"),
    "195101003": Term("WAP", "wandering atrial pacemaker"),
    "74390002": Term("WPW", "Wolff-Parkinson-White pattern"),
}

#: Every SNOMED CT code the challenge data uses, scored or not.
SNOMED_CT: dict[str, Term] = {**SNOMED_SCORED, **SNOMED_UNSCORED}

#: CPSC 2018 classes, keyed by the number written in REFERENCE.csv (Liu et al. 2018).
CPSC2018_CLASSES: dict[str, Term] = {
    "1": Term("Normal", "normal"),
    "2": Term("AF", "atrial fibrillation"),
    "3": Term("I-AVB", "first degree atrioventricular block"),
    "4": Term("LBBB", "left bundle branch block"),
    "5": Term("RBBB", "right bundle branch block"),
    "6": Term("PAC", "premature atrial contraction"),
    "7": Term("PVC", "premature ventricular contraction"),
    "8": Term("STD", "ST-segment depression"),
    "9": Term("STE", "ST-segment elevation"),
}

#: CODE-15% abnormality columns of exams.csv (Ribeiro et al. 2020), in file order.
CODE15_LABELS: dict[str, Term] = {
    "1dAVb": Term("1dAVb", "first degree atrioventricular block"),
    "RBBB": Term("RBBB", "right bundle branch block"),
    "LBBB": Term("LBBB", "left bundle branch block"),
    "SB": Term("SB", "sinus bradycardia"),
    "ST": Term("ST", "sinus tachycardia"),
    "AF": Term("AF", "atrial fibrillation"),
}

#: Vocabulary name (as in :class:`tools.record.Label`) -> its table.
VOCABULARIES: dict[str, dict[str, Term]] = {
    "SNOMED-CT": SNOMED_CT,
    "CPSC2018": CPSC2018_CLASSES,
    "CODE-15": CODE15_LABELS,
}


def _term(vocabulary: str, code: str | int) -> Term | None:
    table = VOCABULARIES.get(vocabulary)
    if table is None:
        return None
    return table.get(str(code).strip())


def label_name(vocabulary: str, code: str | int) -> str | None:
    """Return the human-readable name of ``code`` in ``vocabulary``, or ``None``.

    Parameters
    ----------
    vocabulary
        ``"SNOMED-CT"``, ``"CPSC2018"`` or ``"CODE-15"`` (other vocabularies give ``None``).
    code
        The code as its dataset writes it (``"426783006"``, ``2``, ``"1dAVb"``).

    Examples
    --------
    >>> label_name("SNOMED-CT", "164889003")
    'atrial fibrillation'
    >>> label_name("CPSC2018", 3)
    'first degree atrioventricular block'
    """
    term = _term(vocabulary, code)
    return term.name if term else None


def label_abbreviation(vocabulary: str, code: str | int) -> str | None:
    """Return the short form of ``code`` (``"AF"``, ``"I-AVB"``, ``"NSR"``), or ``None``."""
    term = _term(vocabulary, code)
    return term.abbreviation if term else None
